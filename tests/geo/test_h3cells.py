import duckdb
import h3
import numpy as np
import pytest

from geo import h3cells
from geo.h3cells import cells_to_latlng, latlng_to_cells, parent, parent_sql_macro, resolution


@pytest.fixture
def points():
    rng = np.random.default_rng(1)
    return rng.uniform(30.0, 30.5, 2_000), rng.uniform(120.0, 120.5, 2_000)


def test_cells_match_h3_library(points):
    lat, lng = points
    cells = latlng_to_cells(lat, lng, 12)
    expected = [h3.str_to_int(h3.latlng_to_cell(a, b, 12)) for a, b in zip(lat, lng, strict=True)]
    assert cells.dtype == np.uint64
    assert cells.tolist() == expected


def test_parallel_path_gives_the_same_cells(points, monkeypatch):
    lat, lng = points
    serial = latlng_to_cells(lat, lng, 12)
    monkeypatch.setattr(h3cells, "PARALLEL_MIN_POINTS", 100)
    assert np.array_equal(latlng_to_cells(lat, lng, 12), serial)


@pytest.mark.parametrize("res", [0, 5, 9, 11])
def test_parent_matches_h3_library(points, res):
    lat, lng = points
    cells = latlng_to_cells(lat, lng, 12)
    expected = [h3.str_to_int(h3.cell_to_parent(h3.int_to_str(int(c)), res)) for c in cells]
    assert parent(cells, res).tolist() == expected
    assert set(resolution(parent(cells, res)).tolist()) == {res}


def test_sql_macro_equals_numpy(points):
    lat, lng = points
    cells = latlng_to_cells(lat, lng, 12)
    con = duckdb.connect()
    con.execute(parent_sql_macro())
    con.execute("CREATE TABLE c AS SELECT unnest(?::UBIGINT[]) AS cell", [cells.tolist()])
    got = [row[0] for row in con.execute("SELECT h3_parent(cell, 9) FROM c").fetchall()]
    assert got == parent(cells, 9).tolist()


def test_invalid_coordinates_give_zero():
    cells = latlng_to_cells(np.array([30.2, np.nan, 95.0]), np.array([120.1, 120.1, 120.1]), 12)
    assert cells[0] != 0 and cells[1] == 0 and cells[2] == 0


def test_cell_centres_are_near_points(points):
    lat, lng = points
    clat, clng = cells_to_latlng(latlng_to_cells(lat, lng, 12))
    assert np.abs(clat - lat).max() < 1e-4 and np.abs(clng - lng).max() < 1e-4
