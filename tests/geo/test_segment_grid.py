"""The grid search finds the nearest segment a brute-force scan finds, ties to the lowest number."""

import numpy as np
import pytest

from geo.segment_grid import build_segment_grid, nearest_segments, segment_parts


def brute_force(a, b, x, y, reach):
    ax, ay, abx, aby, den = segment_parts(a, b)
    t = np.clip(((x[:, None] - ax) * abx + (y[:, None] - ay) * aby) / den, 0, 1)
    gap = np.hypot(x[:, None] - ax - abx * t, y[:, None] - ay - aby * t)
    best = np.argmin(gap, axis=1)  # first of equal minima: the lowest segment number
    return np.where(gap[np.arange(len(x)), best] <= reach, best, -1)


@pytest.mark.parametrize("cell", [7.0, 25.0, 400.0])
def test_random_segments_and_points(cell):
    rng = np.random.default_rng(5)
    a = rng.uniform(0, 1000, (300, 2))
    b = a + rng.normal(0, 60, (300, 2))
    x, y = rng.uniform(-200, 1200, (2, 3000))
    grid = build_segment_grid(a, b, cell)
    got = nearest_segments(grid, segment_parts(a, b), x, y, 60.0)
    assert (got == -1).any() and (got >= 0).any()
    np.testing.assert_array_equal(got, brute_force(a, b, x, y, 60.0))


def test_ties_go_to_the_lowest_segment_and_axis_parallel_segments_are_found():
    # two copies of one segment, a vertical one, a horizontal one on a cell edge; points on and off them
    a = np.array([[0.0, 0.0], [0.0, 0.0], [50.0, -30.0], [-20.0, 25.0]])
    b = np.array([[40.0, 40.0], [40.0, 40.0], [50.0, 90.0], [80.0, 25.0]])
    x = np.array([10.0, 50.0, 49.0, 30.0, 0.0, 500.0])
    y = np.array([10.0, 0.0, 80.0, 25.0, 24.0, 500.0])
    grid = build_segment_grid(a, b, 25.0)
    got = nearest_segments(grid, segment_parts(a, b), x, y, 60.0)
    np.testing.assert_array_equal(got, brute_force(a, b, x, y, 60.0))
    assert got[0] == 0 and got[-1] == -1
