"""The shape reads of the live pages: hierarchy names, polygons of a unit and its children, outlines,
buildings, roads, facilities (all moving only with ``reference_version``), parameterised.

The incident reads are in :mod:`dashboard.queries`.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from dashboard.queries import CHILD, CODE_COLUMN, LEVELS, PARENT_COLUMN, TABLE, unit_filter


def district_codes(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT district_code FROM districts ORDER BY district_code").fetchall()]


def unit_names(con: duckdb.DuckDBPyConnection, level: str, code: str) -> dict[str, tuple[str, str]]:
    """The unit and its ancestors: level -> (code, name), from the grid table's names."""
    if level == "city" or code is None:
        return {}
    column = CODE_COLUMN[level]
    row = con.execute(
        f"""
        SELECT district_code, district_name, street_code, street_name, community_code, community_name,
               grid_code, name
        FROM grids WHERE {column} = ? LIMIT 1
        """,
        [code],
    ).fetchone()
    if row is None:
        return {}
    chain = {
        "district": (row[0], row[1] or row[0]),
        "street": (row[2], row[3] or row[2]),
        "community": (row[4], row[5] or row[4]),
        "grid": (row[6], row[7] or row[6]),
    }
    keep = LEVELS[1 : LEVELS.index(level) + 1]
    return {lvl: chain[lvl] for lvl in keep}


def child_shapes(con: duckdb.DuckDBPyConnection, level: str, code: str | None) -> pd.DataFrame:
    """code, name, population, geometry (WKB) of the unit's children (buildings for a grid)."""
    child = CHILD[level]
    where, params = ("TRUE", []) if level == "city" else (f"{PARENT_COLUMN[level]} = ?", [code])
    if child == "building":
        return con.execute(
            f"SELECT building_id AS code, coalesce(name, building_id) AS name, residents AS population, geometry"
            f" FROM buildings WHERE {where} AND geometry IS NOT NULL ORDER BY building_id",
            params,
        ).df()
    return con.execute(
        f"SELECT {CODE_COLUMN[child]} AS code, coalesce(name, {CODE_COLUMN[child]}) AS name, population, geometry"
        f" FROM {TABLE[child]} WHERE {where} ORDER BY 1",
        params,
    ).df()


def unit_shape(con: duckdb.DuckDBPyConnection, level: str, code: str | None) -> bytes | None:
    if level == "city" or code is None:
        return None
    row = con.execute(f"SELECT geometry FROM {TABLE[level]} WHERE {CODE_COLUMN[level]} = ?", [code]).fetchone()
    return None if row is None or row[0] is None else bytes(row[0])


def outline_shapes(con: duckdb.DuckDBPyConnection, level: str) -> pd.DataFrame:
    """Every polygon of an administrative level (for outline layers)."""
    return con.execute(f"SELECT {CODE_COLUMN[level]} AS code, geometry FROM {TABLE[level]}").df()


def building_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT grid_code, count(*) AS n FROM buildings GROUP BY 1").df()


def grid_names(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT grid_code, name, community_name FROM grids").df()


def buildings_in(con: duckdb.DuckDBPyConnection, level: str, code: str | None) -> pd.DataFrame:
    where, params = unit_filter(level, code)
    return con.execute(
        "SELECT building_id AS code, grid_code, community_code, coalesce(height_m, 3.0 * floors, 9.0) AS height_m, geometry"
        f" FROM buildings WHERE {where} AND geometry IS NOT NULL",
        params,
    ).df()


def roads_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT class, geometry FROM roads").df()


def facilities_in(
    con: duckdb.DuckDBPyConnection, level: str, code: str | None, limit: int, kind: str | None = None
) -> pd.DataFrame:
    where, params = unit_filter(level, code)
    return con.execute(
        f"SELECT facility_id, type, name, lon, lat FROM facilities WHERE {where} AND (?::VARCHAR IS NULL OR type = ?)"
        " ORDER BY facility_id LIMIT ?",
        [*params, kind, kind, limit],
    ).df()
