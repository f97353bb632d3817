"""Bulk rows of any keyed table: upsert and append a batch (Arrow or pandas), points and their grids, counts."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from pipelines.store.schema import COUNTED_TABLES, KEYS
from pipelines.vocabulary import GRID_CODE_COLUMNS


def as_arrow(frame):
    """Arrow scans much faster than pandas object columns; frames Arrow cannot type stay pandas."""
    if not isinstance(frame, pd.DataFrame):
        return frame
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return frame


def columns_of(frame) -> list[str]:
    return list(frame.columns) if isinstance(frame, pd.DataFrame) else list(frame.column_names)


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, frame, grid_codes=None) -> None:
    """Upsert by the table's key: rows with the same ids are replaced, so reloads are idempotent.

    See :func:`append_rows` for ``grid_codes``.
    """
    key = KEYS[table]
    frame = as_arrow(frame)
    con.register("_batch", frame)
    try:
        con.execute(f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM _batch)")
    finally:
        con.unregister("_batch")
    append_rows(con, table, frame, grid_codes)


TIME_ORDER = {"incidents": "reported_at", "incident_events": "occurred_at"}


def time_order(table: str, columns: list[str], alias: str = "b.") -> str:
    column = TIME_ORDER.get(table)
    return f" ORDER BY {alias}{column}" if column in columns else ""


def append_rows(con: duckdb.DuckDBPyConnection, table: str, frame, grid_codes=None) -> None:
    """Insert ``frame``; with ``grid_codes`` its ``grid_index`` column becomes grid and upper codes.

    Resolving codes in SQL keeps millions of code strings out of Python.
    """
    columns = [c for c in columns_of(frame) if c != "grid_index"]
    select = [f"b.{c}" for c in columns]
    source = "_batch b"
    if grid_codes is not None:
        con.register("_grid_codes", grid_codes)
        columns += GRID_CODE_COLUMNS
        select += [f"g.{c}" for c in GRID_CODE_COLUMNS]
        source += " LEFT JOIN _grid_codes g ON g.grid_index = b.grid_index"
    con.register("_batch", as_arrow(frame))
    try:
        con.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(select)} FROM {source}"
            + time_order(table, columns)
        )
    finally:
        con.unregister("_batch")
        if grid_codes is not None:
            con.unregister("_grid_codes")


def geometries(blobs) -> np.ndarray:
    """Shapely geometries from a BLOB column (DuckDB hands WKB back as bytearray)."""
    return shapely.from_wkb(np.array([None if b is None else bytes(b) for b in blobs], dtype=object))


def point_rows(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    key = KEYS[table]
    return con.execute(f"SELECT {key} AS id, lon, lat, h3_cell FROM {table}").df()


def update_point_grids(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, grid_codes: pd.DataFrame):
    """Set grid and upper codes for the rows in ``frame`` (id, grid_index) from ``grid_codes``."""
    key = KEYS[table]
    con.register("_assign", frame)
    con.register("_grid_codes", grid_codes)
    try:
        con.execute(
            f"""
            UPDATE {table} SET grid_code = g.grid_code, community_code = g.community_code,
                street_code = g.street_code, district_code = g.district_code
            FROM _assign a LEFT JOIN _grid_codes g USING (grid_index) WHERE {table}.{key} = a.id
            """
        )
    finally:
        con.unregister("_assign")
        con.unregister("_grid_codes")


CITY_TABLES = (
    "grids",
    "grid_cells",
    "communities",
    "streets",
    "districts",
    "buildings",
    "roads",
    "facilities",
    "grid_workers",
    "incidents",
    "incident_events",
    "open_incidents",
    "resolutions",
    "recent_incidents",
    "assignments",
    "intake_tokens",
    "rejects",
    "loads",
)
"""Everything a generated city replaces; accounts, keys, categories and standards stay."""


def clear_city(con: duckdb.DuckDBPyConnection) -> None:
    """Empty :data:`CITY_TABLES` (the generator's fresh start)."""
    for table in CITY_TABLES:
        con.execute(f"DELETE FROM {table}")


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in COUNTED_TABLES}


def facility_type_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(con.execute("SELECT type, count(*) FROM facilities GROUP BY type ORDER BY type").fetchall())
