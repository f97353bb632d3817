"""The SQL the coverage planner reads with (runs, access per hexagon, uncovered buildings), parameterised."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from dashboard.queries import unit_filter
from pipelines.vocabulary import LEVEL_TABLES


def coverage_run(con: duckdb.DuckDBPyConnection) -> tuple | None:
    """(run_id, run_at, method, walk_speed_m_per_min) of the latest coverage run."""
    return con.execute(
        "SELECT run_id, run_at, method, walk_speed_m_per_min FROM coverage_runs ORDER BY run_id DESC LIMIT 1"
    ).fetchone()


def coverage_stale(con: duckdb.DuckDBPyConnection, run_at: dt.datetime) -> bool:
    """Buildings, roads or facilities were loaded after the coverage run."""
    row = con.execute(
        "SELECT count(*) FROM loads WHERE kind IN ('buildings', 'roads', 'facilities') AND loaded_at > ?", [run_at]
    ).fetchone()
    return bool(row[0])


def access_cells(
    con: duckdb.DuckDBPyConnection, level: str, code: str | None, kind: str, res: int, cap_m: float, limit: int
) -> pd.DataFrame:
    """Per H3 cell: residents, their mean walking time to ``kind`` (unreached counts as ``cap_m``), share covered."""
    where, params = unit_filter(level, code, "b.")
    return con.execute(
        f"""
        SELECT h3_parent(b.h3_cell, ?) AS cell, sum(b.residents)::BIGINT AS residents, count(*) AS buildings,
               sum(b.residents * least(coalesce(a.distance_m, ?), ?)) / nullif(sum(b.residents), 0) AS mean_m,
               sum(b.residents) FILTER (WHERE a.distance_m <= t.threshold_m) / nullif(sum(b.residents), 0) AS share
        FROM buildings b JOIN building_access a ON a.building_id = b.building_id AND a.type = ?
             JOIN coverage_types t ON t.type = a.type
        WHERE {where} AND b.h3_cell IS NOT NULL
        GROUP BY 1 ORDER BY residents DESC LIMIT ?
        """,
        [res, cap_m, cap_m, kind, *params, limit],
    ).df()


def uncovered_buildings(
    con: duckdb.DuckDBPyConnection, level: str, code: str | None, kind: str, limit: int
) -> pd.DataFrame:
    """Buildings whose residents lack ``kind`` within its life circle (most residents first)."""
    where, params = unit_filter(level, code, "b.")
    return con.execute(
        f"""
        SELECT b.building_id, coalesce(b.name, b.building_id) AS name, b.residents, b.lon, b.lat,
               c.name AS community, a.distance_m, a.minutes
        FROM buildings b JOIN building_access a ON a.building_id = b.building_id AND a.type = ?
             JOIN coverage_types t ON t.type = a.type
             LEFT JOIN communities c ON c.community_code = b.community_code
        WHERE {where} AND (a.distance_m IS NULL OR a.distance_m > t.threshold_m)
        ORDER BY b.residents DESC, b.building_id LIMIT ?
        """,
        [kind, *params, limit],
    ).df()


def facility_count(con: duckdb.DuckDBPyConnection, level: str, code: str | None, kind: str | None) -> int:
    """How many facilities (of ``kind``, or all) lie inside the unit: the tile's number, not the map's cap."""
    where, params = unit_filter(level, code)
    row = con.execute(
        f"SELECT count(*) FROM facilities WHERE {where} AND (?::VARCHAR IS NULL OR type = ?)", [*params, kind, kind]
    ).fetchone()
    return int(row[0])


def grid_parents(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every grid with the community, street and district it lies in."""
    return con.execute("SELECT grid_code, community_code, street_code, district_code FROM grids").df()


def level_names(con: duckdb.DuckDBPyConnection, level: str) -> pd.DataFrame:
    """code, name of every unit of an administrative level."""
    table, column = LEVEL_TABLES[level]
    return con.execute(f"SELECT {column} AS code, name FROM {table}").df()
