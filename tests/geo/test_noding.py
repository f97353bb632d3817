"""The numpy snap-rounding noder gives the pieces GEOS's union_all(lines, grid_size) gives, on tricky geometry."""

import numpy as np
import pytest
import shapely

from geo.noding import pixel_index, snap_round

GRID = 0.01


def geos_pieces(lines) -> set:
    """Straight pieces of GEOS's noded union, as undirected pixel-index pairs."""
    noded = shapely.get_parts(shapely.union_all(np.asarray(lines, dtype=object), grid_size=GRID))
    coords, index = shapely.get_coordinates(noded, return_index=True)
    same = index[1:] == index[:-1]
    a, b = pixel_index(coords[:-1][same], 1 / GRID), pixel_index(coords[1:][same], 1 / GRID)
    return {tuple(sorted([tuple(p), tuple(q)])) for p, q in zip(a.tolist(), b.tolist(), strict=True) if p != q}


def ours(lines) -> set:
    start, end = snap_round(np.asarray(lines, dtype=object), GRID)
    return {(tuple(p), tuple(q)) for p, q in zip(start.tolist(), end.tolist(), strict=True)}


def line(*coords):
    return shapely.LineString(coords)


CASES = {
    "crossing without a shared vertex": [line((0, 0), (100, 100)), line((0, 100), (100, 0))],
    "crossing off the grid": [line((0.003, 0.0071), (97.1234, 55.5555)), line((10.0049, 80.3), (60.777, -3.21))],
    "T-junction, end exactly on the line": [line((0, 0), (200, 0)), line((80, 0), (80, 100))],
    "T-junction, end a few mm off the line": [line((0, 0), (200, 0)), line((80.001, 0.004), (80, 100))],
    "end within a pixel of a diagonal": [line((0, 0), (100, 37)), line((50, 18.503), (50, 90))],
    "shared interior vertex": [line((0, 0), (50, 0), (100, 0)), line((50, 0), (50, 80))],
    "duplicate segments": [line((0, 0), (100, 0)), line((0, 0), (100, 0)), line((100, 0), (0, 0))],
    "overlapping collinear segments": [line((0, 0), (100, 0)), line((40, 0), (160, 0)), line((20, 0), (30, 0))],
    "closed ring crossed by a line": [
        line((0, 0), (50, 0), (50, 50), (0, 50), (0, 0)),
        line((-10, 25.001), (60, 25.002)),
    ],
    "self-crossing line": [line((0, 0), (100, 100), (100, 0), (0, 100))],
    "several lines through one point": [line((0, 0), (10, 10)), line((0, 10), (10, 0)), line((5, -5), (5, 15))],
    "segment shorter than a pixel": [
        line((0, 0), (10, 0)),
        line((10, 0), (10.003, 0.002)),
        line((10.003, 0.002), (20, 0)),
    ],
}


@pytest.mark.parametrize("name", CASES)
def test_same_pieces_as_geos(name):
    assert ours(CASES[name]) == geos_pieces(CASES[name])


def test_same_pieces_as_geos_on_a_random_street_tangle():
    rng = np.random.default_rng(3)
    ends = rng.uniform(0, 400, (150, 2, 2))
    lines = [line(*e) for e in ends]
    # and lines that share end points with others, as drawn roads do
    lines += [line(ends[i, 1], ends[i + 1, 0], rng.uniform(0, 400, 2)) for i in range(0, 60, 2)]
    assert ours(lines) == geos_pieces(lines)


def test_no_lines_no_pieces():
    start, end = snap_round(np.array([], dtype=object), GRID)
    assert start.shape == end.shape == (0, 2)
