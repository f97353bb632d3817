"""The road lines: what the walking network and the facility namer read."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from pipelines.store.rows import geometries


def road_rows(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """road_id, class, length_m, geometry (WKB) of every road with a geometry, by id."""
    return con.execute(
        "SELECT road_id, class, length_m, geometry FROM roads WHERE geometry IS NOT NULL ORDER BY road_id"
    ).df()


def named_roads(con: duckdb.DuckDBPyConnection) -> tuple[np.ndarray, np.ndarray]:
    """Names and geometries of the roads that have both."""
    rows = con.execute("SELECT name, geometry FROM roads WHERE name IS NOT NULL AND geometry IS NOT NULL").df()
    return rows["name"].to_numpy(dtype=object), geometries(rows["geometry"])


def road_geometries(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    """Every road geometry (any class)."""
    return geometries(con.execute("SELECT geometry FROM roads WHERE geometry IS NOT NULL").fetchnumpy()["geometry"])
