"""Grid assignment must equal shapely's exact answer, boundary points included.

Tie rule under test: a point on a shared boundary (or in overlapping grids)
goes to the grid with the lowest index, i.e. the smallest grid_code.
"""

import numpy as np
import pytest
import shapely

from geo.assign import assign_points, build_cover
from geo.h3cells import POINT_RES, latlng_to_cells

WEST, SOUTH, STEP = 120.10, 30.20, 0.0022


def jittered_tiles(nx: int = 12, ny: int = 9, seed: int = 5) -> np.ndarray:
    """Quadrilateral grids sharing jittered vertices, so they tile with no gap or overlap."""
    rng = np.random.default_rng(seed)
    vx = WEST + np.arange(nx + 1)[:, None] * STEP + rng.uniform(-0.3, 0.3, (nx + 1, ny + 1)) * STEP
    vy = SOUTH + np.arange(ny + 1)[None, :] * STEP + rng.uniform(-0.3, 0.3, (nx + 1, ny + 1)) * STEP
    tiles = []
    for i in range(nx):
        for j in range(ny):
            ring = [
                (vx[i, j], vy[i, j]),
                (vx[i + 1, j], vy[i + 1, j]),
                (vx[i + 1, j + 1], vy[i + 1, j + 1]),
                (vx[i, j + 1], vy[i, j + 1]),
            ]
            tiles.append(shapely.Polygon(ring))
    return np.array(tiles, dtype=object)


def exact_assignment(geoms: np.ndarray, lng: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Reference: every grid whose closed polygon holds the point; the lowest index wins."""
    points = shapely.points(lng, lat)
    point_idx, geom_idx = shapely.STRtree(geoms).query(points, predicate="intersects")
    expected = np.full(len(points), -1)
    order = np.lexsort((geom_idx, point_idx))
    first_points, first = np.unique(point_idx[order], return_index=True)
    expected[first_points] = geom_idx[order][first]
    return expected


def boundary_points(geoms: np.ndarray, per_edge: int, rng) -> tuple[np.ndarray, np.ndarray]:
    rings = shapely.get_exterior_ring(geoms)
    fractions = rng.random((len(rings), per_edge))
    pts = shapely.line_interpolate_point(np.repeat(rings, per_edge), fractions.ravel(), normalized=True)
    vertices = shapely.get_coordinates(geoms)
    coords = np.vstack([shapely.get_coordinates(pts), vertices])
    return coords[:, 0], coords[:, 1]


@pytest.fixture(scope="module")
def tiles_and_extras():
    tiles = jittered_tiles()
    centre = tiles[40].centroid
    overlap = shapely.box(centre.x - 0.001, centre.y - 0.001, centre.x + 0.0015, centre.y + 0.0012)
    tiny = shapely.box(WEST + 0.030, SOUTH - 0.0100, WEST + 0.03005, SOUTH - 0.00995)  # ~5 m, smaller than a cell
    concave = shapely.Polygon(
        [
            (WEST + 0.04, SOUTH - 0.008),
            (WEST + 0.046, SOUTH - 0.008),
            (WEST + 0.046, SOUTH - 0.002),
            (WEST + 0.044, SOUTH - 0.002),
            (WEST + 0.044, SOUTH - 0.006),
            (WEST + 0.04, SOUTH - 0.006),
        ]
    )
    return np.concatenate([tiles, np.array([overlap, tiny, concave], dtype=object)])


def test_assignment_equals_exact_point_in_polygon(tiles_and_extras):
    geoms = tiles_and_extras
    rng = np.random.default_rng(11)
    west, south, east, north = shapely.total_bounds(geoms)
    lng = rng.uniform(west - 0.002, east + 0.002, 100_000)
    lat = rng.uniform(south - 0.002, north + 0.002, 100_000)
    edge_lng, edge_lat = boundary_points(geoms, per_edge=20, rng=rng)
    tiny_lng, tiny_lat = rng.uniform(WEST + 0.030, WEST + 0.03005, 200), rng.uniform(SOUTH - 0.01, SOUTH - 0.00995, 200)
    lng = np.concatenate([lng, edge_lng, tiny_lng])
    lat = np.concatenate([lat, edge_lat, tiny_lat])

    cover = build_cover(geoms)
    got = assign_points(lng, lat, latlng_to_cells(lat, lng, POINT_RES), cover, geoms)
    expected = exact_assignment(geoms, lng, lat)

    assert np.array_equal(got, expected)
    # the test really exercised shared boundaries, overlaps, the tiny grid and points outside
    on_shared = shapely.STRtree(geoms).query(shapely.points(edge_lng, edge_lat), predicate="intersects")[0]
    assert np.bincount(on_shared).max() >= 2
    assert (got == len(geoms) - 2).sum() >= 200
    assert (got == -1).sum() > 1_000
    assert cover.inside.sum() > 0 and (~cover.inside).sum() > 0


def test_shared_boundary_goes_to_the_smallest_index():
    left = shapely.box(120.0, 30.0, 120.001, 30.001)
    right = shapely.box(120.001, 30.0, 120.002, 30.001)
    geoms = np.array([left, right], dtype=object)
    lng, lat = np.array([120.001, 120.0005, 120.0015]), np.array([30.0005, 30.0005, 30.0005])
    got = assign_points(lng, lat, latlng_to_cells(lat, lng, POINT_RES), build_cover(geoms), geoms)
    assert got.tolist() == [0, 0, 1]


def test_points_without_coordinates_are_unassigned():
    geoms = np.array([shapely.box(120.0, 30.0, 120.001, 30.001)], dtype=object)
    lng, lat = np.array([np.nan, 120.0005]), np.array([np.nan, 30.0005])
    got = assign_points(lng, lat, latlng_to_cells(lat, lng, POINT_RES), build_cover(geoms), geoms)
    assert got.tolist() == [-1, 0]


def test_a_few_points_at_a_time_get_the_same_grids(tiles_and_extras):
    """Intake assigns one point per request (GEOS over the candidates, not the compiled kernel): same answers."""
    geoms = tiles_and_extras
    rng = np.random.default_rng(12)
    west, south, east, north = shapely.total_bounds(geoms)
    edge_lng, edge_lat = boundary_points(geoms, per_edge=2, rng=rng)
    lng = np.concatenate([rng.uniform(west - 0.002, east + 0.002, 1_500), edge_lng, [np.nan]])
    lat = np.concatenate([rng.uniform(south - 0.002, north + 0.002, 1_500), edge_lat, [np.nan]])
    cells = latlng_to_cells(lat, lng, POINT_RES)
    cover = build_cover(geoms)
    got = np.concatenate(
        [
            assign_points(lng[k : k + 10], lat[k : k + 10], cells[k : k + 10], cover, geoms)
            for k in range(0, len(lng), 10)
        ]
    )
    assert np.array_equal(got, exact_assignment(geoms, lng, lat))
    assert (got == -1).sum() > 10 and len(np.unique(got)) > 50
