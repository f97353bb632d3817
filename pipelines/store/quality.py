"""Reads for the data-quality report: the load log, rejects by reason, points without a grid, facility types
against the service standards, building locations."""

from __future__ import annotations

import duckdb
import pandas as pd

OUTSIDE_REASON = "%outside the loaded area%"


def latest_loads(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The latest load of each file: kind, source_file, rows_in, rows_loaded, rows_rejected, rows_repaired."""
    return con.execute(
        """
        SELECT kind, source_file, rows_in, rows_loaded, rows_rejected, rows_repaired FROM loads
        QUALIFY row_number() OVER (PARTITION BY kind, file_sha256 ORDER BY load_id DESC) = 1
        ORDER BY kind, source_file
        """
    ).df()


def reject_reasons(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """kind, reason, rows: every reason of every reject counted once (duplicate ids grouped as one reason)."""
    return con.execute(
        r"""
        SELECT kind, regexp_replace(reason, '^(duplicate id) .*$', '\1') AS reason, count(*) AS rows
        FROM (SELECT kind, unnest(string_split(reason, '; ')) AS reason FROM rejects)
        GROUP BY ALL ORDER BY kind, rows DESC
        """
    ).df()


def points_without_grid(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """kind, stored_without_grid, rejected: point rows kept outside every grid, and those refused for it."""
    frame = con.execute(
        """
        SELECT 'buildings' AS kind, count(*) FILTER (WHERE grid_code IS NULL) AS stored_without_grid FROM buildings
        UNION ALL SELECT 'facilities', count(*) FILTER (WHERE grid_code IS NULL) FROM facilities
        UNION ALL SELECT 'incidents', count(*) FILTER (WHERE grid_code IS NULL) FROM incidents
        """
    ).df()
    rejected = dict(
        con.execute("SELECT kind, count(*) FROM rejects WHERE reason LIKE ? GROUP BY kind", [OUTSIDE_REASON]).fetchall()
    )
    frame["rejected"] = frame["kind"].map(rejected).fillna(0).astype(int)
    return frame


def facility_types_vs_standards(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """type, tier_minutes, required, facilities, standard: every standard type (0 where none) and every loaded type."""
    return con.execute(
        """
        SELECT coalesce(s.type, f.type) AS type, s.tier_minutes, coalesce(s.required, false) AS required,
               coalesce(f.n, 0) AS facilities, s.type IS NOT NULL AS standard
        FROM service_standards s FULL JOIN (SELECT type, count(*) AS n FROM facilities GROUP BY type) f USING (type)
        ORDER BY required DESC, facilities, type
        """
    ).df()


def building_locations(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT building_id, lon, lat FROM buildings WHERE lon IS NOT NULL ORDER BY building_id").df()
