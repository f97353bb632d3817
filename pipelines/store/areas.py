"""The area tables: grids and their H3 cover, the admin levels rolled up from them, buildings, grid workers."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.store.rows import append_rows


def grid_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """All grids ordered by code (the assignment tie rule depends on this order)."""
    return con.execute(
        "SELECT grid_code, community_code, street_code, district_code, geometry FROM grids ORDER BY grid_code"
    ).df()


def grid_names(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each grid's code with the names of its community, street and district, by code."""
    return con.execute(
        "SELECT grid_code, community_name, street_name, district_name FROM grids ORDER BY grid_code"
    ).df()


def grid_cells_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT h3_cell, grid_code, inside FROM grid_cells").df()


def replace_grid_cells(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    con.execute("DELETE FROM grid_cells")
    append_rows(con, "grid_cells", frame)


def rebuild_admin_level(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    con.execute(f"DELETE FROM {table}")
    append_rows(con, table, frame)


def fill_grid_population_from_buildings(con: duckdb.DuckDBPyConnection) -> None:
    """Grids whose file gave no population take the sum of their buildings' residents."""
    con.execute(
        """
        UPDATE grids SET population = b.residents, households = b.households
        FROM (SELECT grid_code, sum(residents)::INTEGER AS residents, sum(households)::INTEGER AS households
              FROM buildings GROUP BY grid_code) b
        WHERE grids.grid_code = b.grid_code AND grids.population IS NULL
        """
    )


def roll_up_population(con: duckdb.DuckDBPyConnection) -> None:
    """Communities, streets and districts carry the sums of their grids."""
    for table, key in (("communities", "community_code"), ("streets", "street_code"), ("districts", "district_code")):
        con.execute(
            f"""
            UPDATE {table} SET population = g.population, households = g.households
            FROM (SELECT {key}, sum(population)::INTEGER AS population, sum(households)::INTEGER AS households
                  FROM grids GROUP BY {key}) g
            WHERE {table}.{key} = g.{key}
            """
        )


def area_bounds(con: duckdb.DuckDBPyConnection) -> tuple[float, float, float, float] | None:
    row = con.execute("SELECT min(lon), min(lat), max(lon), max(lat) FROM grids").fetchone()
    return None if row[0] is None else row


def building_points(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "SELECT coalesce(name, building_id) AS name, residents, lon, lat FROM buildings WHERE grid_code IS NOT NULL"
    ).df()


def grid_workers_of(con: duckdb.DuckDBPyConnection, grid_code: str | None) -> pd.DataFrame:
    return con.execute(
        "SELECT worker_id, name, role, phone FROM grid_workers WHERE grid_code = ? ORDER BY role, worker_id",
        [grid_code],
    ).df()


def worker_exists(con: duckdb.DuckDBPyConnection, worker_id: str) -> bool:
    return con.execute("SELECT count(*) FROM grid_workers WHERE worker_id = ?", [worker_id]).fetchone()[0] > 0
