"""The DuckDB store: schema, connection, and every SQL statement the pipelines run."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from geo.h3cells import COVER_RES, POINT_RES, parent_sql_macro
from pipelines.domain import CATEGORIES, LIFE_CIRCLE_LABELS, LIFE_CIRCLES_M, SERVICE_STANDARDS
from pipelines.errors import DatabaseBusyError, GridtwinError

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE SEQUENCE IF NOT EXISTS load_seq;
CREATE SEQUENCE IF NOT EXISTS event_seq;
CREATE TABLE IF NOT EXISTS districts (
    district_code VARCHAR, name VARCHAR, population INTEGER, households INTEGER,
    lon DOUBLE, lat DOUBLE, geometry BLOB);
CREATE TABLE IF NOT EXISTS streets (
    street_code VARCHAR, name VARCHAR, district_code VARCHAR, population INTEGER, households INTEGER,
    lon DOUBLE, lat DOUBLE, geometry BLOB);
CREATE TABLE IF NOT EXISTS communities (
    community_code VARCHAR, name VARCHAR, street_code VARCHAR, district_code VARCHAR,
    population INTEGER, households INTEGER, lon DOUBLE, lat DOUBLE, geometry BLOB);
CREATE TABLE IF NOT EXISTS grids (
    grid_code VARCHAR, name VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR,
    community_name VARCHAR, street_name VARCHAR, district_name VARCHAR,
    population INTEGER, households INTEGER, area_m2 DOUBLE, lon DOUBLE, lat DOUBLE, geometry BLOB);
-- H3 cover of the grid polygons at resolution {COVER_RES}: inside = cell wholly inside that grid.
CREATE TABLE IF NOT EXISTS grid_cells (h3_cell UBIGINT, grid_code VARCHAR, inside BOOLEAN);
CREATE TABLE IF NOT EXISTS buildings (
    building_id VARCHAR, name VARCHAR, use VARCHAR, floors INTEGER, height_m DOUBLE,
    residents INTEGER, households INTEGER, area_m2 DOUBLE, lon DOUBLE, lat DOUBLE, h3_cell UBIGINT,
    grid_code VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR,
    geometry BLOB);
CREATE TABLE IF NOT EXISTS roads (
    road_id VARCHAR, name VARCHAR, class VARCHAR, length_m DOUBLE, geometry BLOB);
CREATE TABLE IF NOT EXISTS facilities (
    facility_id VARCHAR, type VARCHAR, name VARCHAR, capacity INTEGER, address VARCHAR,
    lon DOUBLE, lat DOUBLE, h3_cell UBIGINT,
    grid_code VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR);
-- phone is stored for dispatch but must never be shown unmasked.
CREATE TABLE IF NOT EXISTS grid_workers (
    worker_id VARCHAR, name VARCHAR, role VARCHAR, grid_code VARCHAR, phone VARCHAR);
CREATE TABLE IF NOT EXISTS categories (
    category VARCHAR PRIMARY KEY, affair_class VARCHAR, deadline_h INTEGER, department VARCHAR);
CREATE TABLE IF NOT EXISTS incidents (
    incident_id VARCHAR, category VARCHAR, affair_class VARCHAR, source VARCHAR, priority VARCHAR,
    status VARCHAR, reported_at TIMESTAMP, due_at TIMESTAMP, resolved_at TIMESTAMP,
    description VARCHAR, address VARCHAR, reporter_name VARCHAR, reporter_phone VARCHAR,
    satisfaction TINYINT, lon DOUBLE, lat DOUBLE, h3_cell UBIGINT,
    grid_code VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR);
-- Open incidents (上报 … 处置中), kept in step with incidents by every write path (sync_derived_tables):
-- open and overdue figures read this small table instead of scanning the whole history.
CREATE TABLE IF NOT EXISTS open_incidents (
    incident_id VARCHAR, category VARCHAR, status VARCHAR, priority VARCHAR, reported_at TIMESTAMP,
    due_at TIMESTAMP, grid_code VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR);
-- Resolved incidents ordered by resolved_at, kept in step like open_incidents: handling time and
-- satisfaction "of what was resolved lately" read this instead of scanning resolved_at across all history.
CREATE TABLE IF NOT EXISTS resolutions (
    incident_id VARCHAR, resolved_at TIMESTAMP, reported_at TIMESTAMP, status VARCHAR, satisfaction TINYINT,
    grid_code VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR);
-- Append-only history of every status transition (过程追踪).
CREATE TABLE IF NOT EXISTS incident_events (
    event_id BIGINT DEFAULT nextval('event_seq'), incident_id VARCHAR, from_status VARCHAR,
    to_status VARCHAR, occurred_at TIMESTAMP, actor VARCHAR, note VARCHAR);
CREATE TABLE IF NOT EXISTS loads (
    load_id BIGINT, kind VARCHAR, source_file VARCHAR, file_sha256 VARCHAR, crs VARCHAR,
    loaded_at TIMESTAMP, rows_in BIGINT, rows_loaded BIGINT, rows_rejected BIGINT, rows_repaired BIGINT);
-- Quarantine: every row a load refused, with the reason and the raw row as JSON.
CREATE TABLE IF NOT EXISTS rejects (
    load_id BIGINT, kind VARCHAR, source_file VARCHAR, file_sha256 VARCHAR, row_number BIGINT,
    record_id VARCHAR, reason VARCHAR, raw VARCHAR);
-- Service coverage (服务圈): editable standards, the walking network, and per-building results.
CREATE TABLE IF NOT EXISTS life_circles (tier_minutes INTEGER PRIMARY KEY, distance_m DOUBLE, label VARCHAR);
CREATE TABLE IF NOT EXISTS service_standards (type VARCHAR PRIMARY KEY, tier_minutes INTEGER, required BOOLEAN);
CREATE TABLE IF NOT EXISTS coverage_runs (
    run_id BIGINT, run_at TIMESTAMP, method VARCHAR, walk_speed_m_per_min DOUBLE, cutoff_m DOUBLE,
    minutes_override DOUBLE, seconds DOUBLE, report VARCHAR);
-- One row per facility type of the latest run: the distance that counts as covered, and how it was measured.
CREATE TABLE IF NOT EXISTS coverage_types (
    type VARCHAR PRIMARY KEY, tier_minutes DOUBLE, threshold_m DOUBLE, required BOOLEAN, method VARCHAR,
    facilities INTEGER, run_id BIGINT);
CREATE TABLE IF NOT EXISTS building_access (building_id VARCHAR, type VARCHAR, distance_m DOUBLE, minutes DOUBLE);
CREATE TABLE IF NOT EXISTS network_nodes (node_id INTEGER, x DOUBLE, y DOUBLE, lon DOUBLE, lat DOUBLE);
CREATE TABLE IF NOT EXISTS network_edges (edge_id INTEGER, u INTEGER, v INTEGER, length_m DOUBLE);
CREATE TABLE IF NOT EXISTS network_links (kind VARCHAR, item_id VARCHAR, edge_id INTEGER, along_m DOUBLE, offset_m DOUBLE);
-- The closed loop's own state: who an incident is dispatched to, accounts, intake keys, idempotency tokens.
CREATE TABLE IF NOT EXISTS assignments (
    incident_id VARCHAR PRIMARY KEY, assignee_type VARCHAR, assignee VARCHAR, assigned_at TIMESTAMP, actor VARCHAR);
CREATE TABLE IF NOT EXISTS users (
    username VARCHAR PRIMARY KEY, role VARCHAR, password_hash VARCHAR, created_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS api_keys (
    key_id VARCHAR PRIMARY KEY, name VARCHAR, role VARCHAR, key_hash VARCHAR UNIQUE, created_at TIMESTAMP,
    revoked BOOLEAN DEFAULT false);
CREATE TABLE IF NOT EXISTS intake_tokens (token VARCHAR PRIMARY KEY, incident_id VARCHAR, created_at TIMESTAMP);
{parent_sql_macro()};
CREATE OR REPLACE MACRO h3_resolution(cell) AS ((cell::UBIGINT >> 52) & 15::UBIGINT);
"""

KEYS = {
    "districts": "district_code",
    "streets": "street_code",
    "communities": "community_code",
    "grids": "grid_code",
    "buildings": "building_id",
    "roads": "road_id",
    "facilities": "facility_id",
    "grid_workers": "worker_id",
    "incidents": "incident_id",
}

COUNTED_TABLES = (  # open_incidents is derived from incidents and not listed
    "districts",
    "streets",
    "communities",
    "grids",
    "grid_cells",
    "buildings",
    "roads",
    "facilities",
    "grid_workers",
    "categories",
    "incidents",
    "incident_events",
    "rejects",
)

_LOCK_PID = re.compile(r"PID (\d+)")


def connect(db_path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and if needed create) the database; a busy file gives a clear error."""
    path = Path(db_path)
    if read_only and not path.exists():
        raise GridtwinError(f"database {path} does not exist: create it with `gridtwin generate --db {path}`")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise GridtwinError(f"cannot open database {path}: {exc}") from exc
        pid = _LOCK_PID.search(str(exc))
        holder = f" (process {pid.group(1)})" if pid else ""
        raise DatabaseBusyError(
            f"database {path} is in use by another process{holder}, usually a running `gridtwin serve`: "
            "stop it first, or send the data through the server's API"
        ) from exc
    if not read_only:
        ensure_schema(con)
    return con


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    had = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE table_name IN ('open_incidents', 'resolutions')"
            " AND schema_name = 'main'"
        ).fetchall()
    }
    con.execute(SCHEMA)
    if had != {"open_incidents", "resolutions"}:  # a database from before these tables existed
        sync_derived_tables(con)
    con.execute(
        "INSERT INTO meta VALUES ('point_res', ?), ('cover_res', ?), ('data_version', '0') ON CONFLICT DO NOTHING",
        [str(POINT_RES), str(COVER_RES)],
    )
    con.executemany(
        "INSERT INTO categories VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [[name, *values] for name, values in CATEGORIES.items()],
    )
    con.executemany(
        "INSERT INTO life_circles VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [[tier, metres, LIFE_CIRCLE_LABELS[tier]] for tier, metres in LIFE_CIRCLES_M.items()],
    )
    con.executemany(
        "INSERT INTO service_standards VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [[kind, tier, required] for kind, (tier, required) in SERVICE_STANDARDS.items()],
    )


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All-or-nothing: roll back on any error, then re-raise it."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def bump_data_version(con: duckdb.DuckDBPyConnection) -> None:
    """The cheap change counter the dashboard polls."""
    con.execute("UPDATE meta SET value = (value::BIGINT + 1)::VARCHAR WHERE key = 'data_version'")


def as_arrow(frame):
    """Arrow scans much faster than pandas object columns; frames Arrow cannot type stay pandas."""
    if not isinstance(frame, pd.DataFrame):
        return frame
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return frame


def _columns(frame) -> list[str]:
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


GRID_CODE_COLUMNS = ("grid_code", "community_code", "street_code", "district_code")


TIME_ORDER = {"incidents": "reported_at", "incident_events": "occurred_at"}
"""Rows of these tables are written in time order: a parallel join would interleave them, and then every
row group would span a batch's whole time range and the dashboard's time filters could skip none."""


def _time_order(table: str, columns: list[str], alias: str = "b.") -> str:
    column = TIME_ORDER.get(table)
    return f" ORDER BY {alias}{column}" if column in columns else ""


def append_rows(con: duckdb.DuckDBPyConnection, table: str, frame, grid_codes=None) -> None:
    """Insert ``frame``; with ``grid_codes`` its ``grid_index`` column becomes grid and upper codes.

    Resolving codes in SQL keeps millions of code strings out of Python.
    """
    columns = [c for c in _columns(frame) if c != "grid_index"]
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
            + _time_order(table, columns)
        )
    finally:
        con.unregister("_batch")
        if grid_codes is not None:
            con.unregister("_grid_codes")


def new_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT nextval('load_seq')").fetchone()[0]


def record_load(con: duckdb.DuckDBPyConnection, values: dict) -> None:
    con.execute(
        "INSERT INTO loads VALUES ($load_id, $kind, $source_file, $file_sha256, $crs, now()::TIMESTAMP,"
        " $rows_in, $rows_loaded, $rows_rejected, $rows_repaired)",
        values,
    )


def clear_rejects(con: duckdb.DuckDBPyConnection, kind: str, file_sha256: str) -> None:
    """A reload of the same file replaces its earlier rejects instead of piling them up."""
    con.execute("DELETE FROM rejects WHERE kind = ? AND file_sha256 = ?", [kind, file_sha256])


def geometries(blobs) -> np.ndarray:
    """Shapely geometries from a BLOB column (DuckDB hands WKB back as bytearray)."""
    return shapely.from_wkb(np.array([None if b is None else bytes(b) for b in blobs], dtype=object))


def grid_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """All grids ordered by code (the assignment tie rule depends on this order)."""
    return con.execute(
        "SELECT grid_code, community_code, street_code, district_code, geometry FROM grids ORDER BY grid_code"
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


def ensure_categories(con: duckdb.DuckDBPyConnection, names: list[str], default: tuple[str, int, str]) -> list[str]:
    """Add categories not yet known with the default affair class, deadline and department; return the new ones."""
    known = {row[0] for row in con.execute("SELECT category FROM categories").fetchall()}
    new = sorted(set(names) - known)
    if new:
        con.executemany("INSERT INTO categories VALUES (?, ?, ?, ?)", [[name, *default] for name in new])
    return new


def categories_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT category, affair_class, deadline_h, department FROM categories").df()


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


def area_bounds(con: duckdb.DuckDBPyConnection) -> tuple[float, float, float, float] | None:
    row = con.execute("SELECT min(lon), min(lat), max(lon), max(lat) FROM grids").fetchone()
    return None if row[0] is None else row


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in COUNTED_TABLES}


def incident_status_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(con.execute("SELECT status, count(*) FROM incidents GROUP BY status ORDER BY status").fetchall())


def overdue_count(con: duckdb.DuckDBPyConnection, now) -> int:
    return con.execute("SELECT count(*) FROM open_incidents WHERE due_at < ?", [now]).fetchone()[0]


def facility_type_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(con.execute("SELECT type, count(*) FROM facilities GROUP BY type ORDER BY type").fetchall())


def rejects_frame(con: duckdb.DuckDBPyConnection, kind: str | None = None, limit: int = 50) -> pd.DataFrame:
    return con.execute(
        "SELECT load_id, kind, source_file, row_number, record_id, reason FROM rejects"
        " WHERE ? IS NULL OR kind = ? ORDER BY load_id DESC, row_number LIMIT ?",
        [kind, kind, limit],
    ).df()


def upsert_incidents(con: duckdb.DuckDBPyConnection, frame, grid_codes: pd.DataFrame, actor: str, note: str) -> None:
    """Write located incidents (with ``grid_index``) as one batch: the rows, their imported history, their open state.

    Rows with the same ids are replaced, together with the history an earlier import by ``actor`` gave them,
    so reloading a file is idempotent.  History and open state are built from the batch itself rather than
    read back from ``incidents``.
    """
    batch = as_arrow(frame)
    columns = [c for c in _columns(batch) if c != "grid_index"]
    con.register("_batch", batch)
    con.register("_grid_codes", grid_codes)
    try:
        for table, extra in (
            ("incidents", ""),
            ("open_incidents", ""),
            ("resolutions", ""),
            ("incident_events", " AND actor = $actor"),
        ):
            con.execute(
                f"DELETE FROM {table} WHERE incident_id IN (SELECT incident_id FROM _batch){extra}",
                {"actor": actor} if extra else {},
            )
        located = "_batch b LEFT JOIN _grid_codes g ON g.grid_index = b.grid_index"
        codes = ", ".join(f"g.{c}" for c in GRID_CODE_COLUMNS)
        con.execute(
            f"INSERT INTO incidents ({', '.join(columns)}, {', '.join(GRID_CODE_COLUMNS)})"
            f" SELECT {', '.join('b.' + c for c in columns)}, {codes} FROM {located}"
            + _time_order("incidents", columns)
        )
        con.execute(
            f"INSERT INTO open_incidents ({OPEN_COLUMNS}) SELECT b.incident_id, b.category, b.status, b.priority,"
            f" b.reported_at, b.due_at, {codes} FROM {located} WHERE b.{OPEN_SQL}"
        )
        if "resolved_at" in columns:
            satisfaction = "b.satisfaction" if "satisfaction" in columns else "NULL"
            con.execute(
                f"INSERT INTO resolutions ({RESOLVED_COLUMNS}) SELECT b.incident_id, b.resolved_at, b.reported_at,"
                f" b.status, {satisfaction}, {codes} FROM {located} WHERE b.resolved_at IS NOT NULL"
            )
        con.execute(
            """
            INSERT INTO incident_events (incident_id, from_status, to_status, occurred_at, actor, note)
            SELECT incident_id, NULL, 'reported', reported_at, $actor, $note FROM _batch
            UNION ALL
            SELECT incident_id, 'reported', status, coalesce(resolved_at, reported_at), $actor, $note
            FROM _batch WHERE status <> 'reported'
            """,
            {"actor": actor, "note": note},
        )
    finally:
        con.unregister("_batch")
        con.unregister("_grid_codes")


OPEN_SQL = "status IN ('reported', 'accepted', 'dispatched', 'in_progress')"
OPEN_COLUMNS = (
    "incident_id, category, status, priority, reported_at, due_at, grid_code, community_code, street_code,"
    " district_code"
)


def sync_derived_tables(con: duckdb.DuckDBPyConnection, ids=None) -> None:
    """Bring ``open_incidents`` and ``resolutions`` in step with ``incidents``.

    For the given ids (a frame with incident_id), or all (then resolutions are rewritten in resolved_at order).
    """
    if ids is None:
        con.execute("DELETE FROM open_incidents")
        con.execute(f"INSERT INTO open_incidents SELECT {OPEN_COLUMNS} FROM incidents WHERE {OPEN_SQL}")
        con.execute("DELETE FROM resolutions")
        con.execute(
            f"INSERT INTO resolutions SELECT {RESOLVED_COLUMNS} FROM incidents WHERE resolved_at IS NOT NULL"
            " ORDER BY resolved_at"
        )
        return
    con.register("_sync_ids", as_arrow(ids))
    try:
        for table, columns, condition in (
            ("open_incidents", OPEN_COLUMNS, OPEN_SQL),
            ("resolutions", RESOLVED_COLUMNS, "resolved_at IS NOT NULL"),
        ):
            con.execute(f"DELETE FROM {table} WHERE incident_id IN (SELECT incident_id FROM _sync_ids)")
            con.execute(
                f"INSERT INTO {table} SELECT {columns} FROM incidents"
                f" WHERE {condition} AND incident_id IN (SELECT incident_id FROM _sync_ids)"
            )
    finally:
        con.unregister("_sync_ids")


def building_points(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "SELECT coalesce(name, building_id) AS name, residents, lon, lat FROM buildings WHERE grid_code IS NOT NULL"
    ).df()


NEXT_STATUS_SQL = """CASE status WHEN 'reported' THEN 'accepted' WHEN 'accepted' THEN 'dispatched'
    WHEN 'dispatched' THEN 'in_progress' WHEN 'in_progress' THEN 'resolved' END"""


RESOLVED_COLUMNS = (
    "incident_id, resolved_at, reported_at, status, satisfaction, grid_code, community_code, street_code, district_code"
)


def advance_open_incidents(con: duckdb.DuckDBPyConnection, n: int, now, actor: str, seed: int) -> int:
    """Move ``n`` randomly chosen open incidents one step along the loop, with their history rows."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _advance AS
        SELECT incident_id, status AS from_status, {NEXT_STATUS_SQL} AS to_status FROM incidents
        WHERE incident_id IN (SELECT incident_id FROM open_incidents WHERE reported_at <= $now
                              ORDER BY hash(incident_id, $seed) LIMIT $n)
        """,
        {"now": now, "seed": seed, "n": n},
    )
    con.execute(
        """
        INSERT INTO incident_events (incident_id, from_status, to_status, occurred_at, actor, note)
        SELECT incident_id, from_status, to_status, $now, $actor, '实时流转' FROM _advance
        """,
        {"now": now, "actor": actor},
    )
    con.execute(
        """
        UPDATE incidents SET status = a.to_status,
            resolved_at = CASE WHEN a.to_status = 'resolved' THEN $now ELSE incidents.resolved_at END
        FROM _advance a WHERE incidents.incident_id = a.incident_id
        """,
        {"now": now},
    )
    moved = con.execute("SELECT count(*) FROM _advance").fetchone()[0]
    sync_derived_tables(con, con.execute("SELECT incident_id FROM _advance").df())
    con.execute("DROP TABLE _advance")
    return moved


# --- service coverage -------------------------------------------------------------------------

AREA_TABLES = {
    "district": ("districts", "district_code"),
    "street": ("streets", "street_code"),
    "community": ("communities", "community_code"),
    "grid": ("grids", "grid_code"),
}


def coverage_inputs(con: duckdb.DuckDBPyConnection) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Road geometries, buildings and facilities — the points in the order the stored links assume."""
    roads = geometries(con.execute("SELECT geometry FROM roads WHERE geometry IS NOT NULL").fetchnumpy()["geometry"])
    return (roads, *planner_points(con))


def service_standards(con: duckdb.DuckDBPyConnection, types: list[str], default: tuple[int, bool]) -> pd.DataFrame:
    """Tier, distance and required flag per facility type; unknown types are added with ``default``."""
    known = {row[0] for row in con.execute("SELECT type FROM service_standards").fetchall()}
    new = sorted(set(types) - known)
    if new:
        con.executemany("INSERT INTO service_standards VALUES (?, ?, ?)", [[t, *default] for t in new])
    return con.execute(
        "SELECT s.type, s.tier_minutes, l.distance_m, s.required FROM service_standards s"
        " LEFT JOIN life_circles l USING (tier_minutes) ORDER BY s.tier_minutes, s.type"
    ).df()


def write_coverage(
    con: duckdb.DuckDBPyConnection,
    run: dict,
    types: pd.DataFrame,
    access: pa.Table,
    nodes: pa.Table | None,
    edges: pa.Table | None,
    links: pa.Table | None,
) -> int:
    """Store one coverage run; results for the computed types and the network are replaced."""
    run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM coverage_runs").fetchone()[0]
    con.execute(
        "INSERT INTO coverage_runs VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            run["method"],
            run["walk_speed_m_per_min"],
            run["cutoff_m"],
            run["minutes_override"],
            run["seconds"],
            run["report"],
        ],
    )
    types = types.assign(run_id=run_id)
    con.register("_types", types)
    con.register("_access", access)
    try:
        con.execute("DELETE FROM coverage_types WHERE type IN (SELECT type FROM _types)")
        con.execute(
            "INSERT INTO coverage_types SELECT type, tier_minutes, threshold_m, required, method, facilities, run_id"
            " FROM _types"
        )
        con.execute("DELETE FROM building_access WHERE type IN (SELECT type FROM _types)")
        con.execute("INSERT INTO building_access SELECT building_id, type, distance_m, minutes FROM _access")
    finally:
        con.unregister("_types")
        con.unregister("_access")
    for table, frame in (("network_nodes", nodes), ("network_edges", edges), ("network_links", links)):
        con.execute(f"DELETE FROM {table}")
        if frame is not None:
            append_rows(con, table, frame)
    return run_id


def network_tables(con: duckdb.DuckDBPyConnection) -> tuple[dict, dict, pd.DataFrame]:
    """The stored walking network: node arrays, edge arrays and the building/facility links."""
    nodes = con.execute("SELECT x, y FROM network_nodes ORDER BY node_id").fetchnumpy()
    edges = con.execute("SELECT u, v FROM network_edges ORDER BY edge_id").fetchnumpy()
    links = con.execute("SELECT kind, item_id, edge_id, along_m, offset_m FROM network_links").df()
    return nodes, edges, links


def coverage_types_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "SELECT type, tier_minutes, threshold_m, required, method, facilities FROM coverage_types"
        " ORDER BY tier_minutes, type"
    ).df()


def coverage_by_area(
    con: duckdb.DuckDBPyConnection, level: str, within: tuple[str, str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Residents covered per area and type, and each area's life-circle completeness.

    ``level`` names the areas (district/street/community/grid); ``within`` = (level, code) limits
    them to one parent.  Returns (areas, by_type): areas has code, name, residents, buildings,
    types_in_reach (residents' mean count of required types within their circle), required_types
    and complete_share (share of residents with every required type in reach); by_type has
    code, type, covered (residents) and share.
    """
    table, column = AREA_TABLES[level]
    where, params = "TRUE", []
    if within is not None:
        where, params = f"b.{AREA_TABLES[within[0]][1]} = ?", [within[1]]
    by_type = con.execute(
        f"""
        SELECT b.{column} AS code, a.type,
               coalesce(sum(b.residents) FILTER (WHERE a.distance_m <= t.threshold_m), 0)::BIGINT AS covered,
               coalesce(sum(b.residents), 0)::BIGINT AS residents
        FROM buildings b JOIN building_access a USING (building_id) JOIN coverage_types t USING (type)
        WHERE {where} AND b.{column} IS NOT NULL
        GROUP BY ALL ORDER BY code, a.type
        """,
        params,
    ).df()
    by_type["share"] = by_type["covered"] / by_type["residents"].where(by_type["residents"] > 0)
    areas = con.execute(
        f"""
        WITH per_building AS (
            SELECT a.building_id,
                   count(*) FILTER (WHERE t.required AND a.distance_m <= t.threshold_m) AS in_reach
            FROM building_access a JOIN coverage_types t USING (type) GROUP BY a.building_id),
        required AS (SELECT count(*) FILTER (WHERE required) AS n FROM coverage_types)
        SELECT b.{column} AS code, any_value(u.name) AS name, sum(b.residents)::BIGINT AS residents,
               count(*) AS buildings,
               sum(b.residents * coalesce(p.in_reach, 0)) / nullif(sum(b.residents), 0) AS types_in_reach,
               any_value(r.n) AS required_types,
               sum(b.residents) FILTER (WHERE p.in_reach = r.n) / nullif(sum(b.residents), 0) AS complete_share
        FROM buildings b LEFT JOIN per_building p USING (building_id) CROSS JOIN required r
             LEFT JOIN {table} u ON u.{column} = b.{column}
        WHERE {where} AND b.{column} IS NOT NULL
        GROUP BY b.{column} ORDER BY b.{column}
        """,
        params,
    ).df()
    areas["complete_share"] = areas["complete_share"].fillna(0.0)
    return areas, by_type


def planner_points(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Buildings and facilities with coordinates, by id: the order a coverage run stores and the planner reads."""
    buildings = con.execute(
        "SELECT building_id, name, coalesce(residents, 0) AS residents, lon, lat, grid_code, community_code,"
        " street_code, district_code FROM buildings WHERE lon IS NOT NULL ORDER BY building_id"
    ).df()
    facilities = con.execute(
        "SELECT facility_id, type, name, lon, lat, community_code, street_code FROM facilities"
        " WHERE lon IS NOT NULL AND type IS NOT NULL ORDER BY facility_id"
    ).df()
    return buildings, facilities


def access_for_type(con: duckdb.DuckDBPyConnection, kind: str) -> np.ndarray:
    """Stored distance (m, NaN = not reached) from every building to ``kind``, in building-id order."""
    return (
        con.execute(
            "SELECT a.distance_m FROM buildings b LEFT JOIN building_access a"
            " ON a.building_id = b.building_id AND a.type = ? WHERE b.lon IS NOT NULL ORDER BY b.building_id",
            [kind],
        )
        .fetchnumpy()["distance_m"]
        .astype(float)
    )


# --- the closed loop: accounts, keys, transitions, Open311 reads -----------------------------------


def save_user(con: duckdb.DuckDBPyConnection, username: str, role: str, password_hash: str) -> bool:
    """Create the user or replace its role and password; True when the user is new."""
    new = con.execute("SELECT count(*) FROM users WHERE username = ?", [username]).fetchone()[0] == 0
    con.execute("INSERT OR REPLACE INTO users VALUES (?, ?, ?, now()::TIMESTAMP)", [username, role, password_hash])
    return new


def user_row(con: duckdb.DuckDBPyConnection, username: str) -> tuple[str, str] | None:
    """(role, password_hash) of a user."""
    return con.execute("SELECT role, password_hash FROM users WHERE username = ?", [username]).fetchone()


def users_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT username, role, created_at FROM users ORDER BY username").df()


def save_api_key(con: duckdb.DuckDBPyConnection, key_id: str, name: str, role: str, key_hash: str) -> None:
    con.execute(
        "INSERT INTO api_keys (key_id, name, role, key_hash, created_at) VALUES (?, ?, ?, ?, now()::TIMESTAMP)",
        [key_id, name, role, key_hash],
    )


def api_key_row(con: duckdb.DuckDBPyConnection, key_hash: str) -> tuple[str, str, str] | None:
    """(key_id, name, role) of a valid key."""
    return con.execute(
        "SELECT key_id, name, role FROM api_keys WHERE key_hash = ? AND NOT revoked", [key_hash]
    ).fetchone()


def meta_value(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])


def token_incident(con: duckdb.DuckDBPyConnection, token: str) -> str | None:
    row = con.execute("SELECT incident_id FROM intake_tokens WHERE token = ?", [token]).fetchone()
    return row[0] if row else None


def save_token(con: duckdb.DuckDBPyConnection, token: str, incident_id: str) -> None:
    con.execute("INSERT INTO intake_tokens VALUES (?, ?, now()::TIMESTAMP)", [token, incident_id])


def category_deadlines(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT category, affair_class, deadline_h, department FROM categories ORDER BY category").df()


def set_deadline(con: duckdb.DuckDBPyConnection, category: str, hours: int) -> bool:
    """Change a category's deadline (时限); False when the category does not exist."""
    found = con.execute("SELECT count(*) FROM categories WHERE category = ?", [category]).fetchone()[0]
    if found:
        con.execute("UPDATE categories SET deadline_h = ? WHERE category = ?", [hours, category])
    return bool(found)


INCIDENT_FIELDS = (
    "i.incident_id, i.category, i.affair_class, i.source, i.priority, i.status, i.reported_at, i.due_at,"
    " i.resolved_at, i.description, i.address, i.reporter_name, i.reporter_phone, i.satisfaction, i.lon, i.lat,"
    " i.grid_code, i.community_code, i.street_code, i.district_code,"
    " a.assignee_type, a.assignee, g.name AS grid_name, g.community_name, g.street_name, c.department"
)
INCIDENT_JOINS = (
    "incidents i LEFT JOIN assignments a USING (incident_id) LEFT JOIN grids g ON g.grid_code = i.grid_code"
    " LEFT JOIN categories c ON c.category = i.category"
)


def incident_record(con: duckdb.DuckDBPyConnection, incident_id: str) -> dict | None:
    frame = con.execute(f"SELECT {INCIDENT_FIELDS} FROM {INCIDENT_JOINS} WHERE i.incident_id = ?", [incident_id]).df()
    return None if frame.empty else frame.iloc[0].to_dict()


def incident_history(con: duckdb.DuckDBPyConnection, incident_id: str) -> pd.DataFrame:
    return con.execute(
        "SELECT event_id, from_status, to_status, occurred_at, actor, note FROM incident_events"
        " WHERE incident_id = ? ORDER BY occurred_at, event_id",
        [incident_id],
    ).df()


def grid_workers_of(con: duckdb.DuckDBPyConnection, grid_code: str | None) -> pd.DataFrame:
    return con.execute(
        "SELECT worker_id, name, role, phone FROM grid_workers WHERE grid_code = ? ORDER BY role, worker_id",
        [grid_code],
    ).df()


def worker_exists(con: duckdb.DuckDBPyConnection, worker_id: str) -> bool:
    return con.execute("SELECT count(*) FROM grid_workers WHERE worker_id = ?", [worker_id]).fetchone()[0] > 0


def apply_transition(
    con: duckdb.DuckDBPyConnection,
    incident_id: str,
    from_status: str,
    to_status: str,
    now,
    actor: str,
    note: str | None,
    satisfaction: int | None = None,
    assignee: tuple[str, str] | None = None,
) -> None:
    """Move one incident (status, resolution time, satisfaction, assignment) and append its history row.

    Call inside a transaction; ``from_status`` guards against a concurrent change.
    """
    changed = con.execute(
        """
        UPDATE incidents SET status = $to,
            resolved_at = CASE WHEN $to = 'resolved' THEN $now
                               WHEN $to IN ('reported', 'accepted', 'dispatched', 'in_progress') THEN NULL
                               ELSE resolved_at END,
            satisfaction = CASE WHEN $to = 'evaluated' THEN $satisfaction
                                WHEN $to IN ('reported', 'accepted', 'dispatched', 'in_progress') THEN NULL
                                ELSE satisfaction END
        WHERE incident_id = $id AND status = $from
        RETURNING incident_id
        """,
        {"to": to_status, "now": now, "satisfaction": satisfaction, "id": incident_id, "from": from_status},
    ).fetchall()
    if len(changed) != 1:
        raise GridtwinError(f"incident {incident_id} changed while you were acting on it: reload and try again")
    con.execute(
        "INSERT INTO incident_events (incident_id, from_status, to_status, occurred_at, actor, note)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [incident_id, from_status, to_status, now, actor, note],
    )
    if assignee is not None:
        con.execute("INSERT OR REPLACE INTO assignments VALUES (?, ?, ?, ?, ?)", [incident_id, *assignee, now, actor])
    sync_derived_tables(con, pd.DataFrame({"incident_id": [incident_id]}))
    bump_data_version(con)


def open311_requests(
    con: duckdb.DuckDBPyConnection,
    start: dt.datetime,
    end: dt.datetime,
    service_codes: list[str] | None,
    statuses: list[str] | None,
    ids: list[str] | None,
    limit: int,
) -> pd.DataFrame:
    """Incidents for Open311's GET requests: by time window, services, open/closed statuses or ids."""
    where, params = ["i.reported_at >= ? AND i.reported_at <= ?"], [start, end]
    if ids:
        where, params = [f"i.incident_id IN ({', '.join('?' * len(ids))})"], list(ids)
    if service_codes:
        where.append(f"i.category IN ({', '.join('?' * len(service_codes))})")
        params += service_codes
    if statuses:
        where.append(f"i.status IN ({', '.join('?' * len(statuses))})")
        params += statuses
    last = "(SELECT max(occurred_at) FROM incident_events e WHERE e.incident_id = i.incident_id) AS updated_at"
    return con.execute(
        f"SELECT {INCIDENT_FIELDS}, {last} FROM {INCIDENT_JOINS} WHERE {' AND '.join(where)}"
        " ORDER BY i.reported_at DESC, i.incident_id DESC LIMIT ?",
        [*params, limit],
    ).df()


def insert_new_incident(con: duckdb.DuckDBPyConnection, row: dict, actor: str, note: str) -> None:
    """One new incident (an id never seen), its open state and its first history row: four small inserts.

    ``row`` holds every incidents column.  Intake takes this path instead of the batch upsert, which
    must look for earlier copies of each id.
    """
    columns = list(row)
    con.execute(
        f"INSERT INTO incidents ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", list(row.values())
    )
    con.execute(
        f"INSERT INTO open_incidents ({OPEN_COLUMNS}) VALUES ({', '.join('?' * len(OPEN_COLUMNS.split(',')))})",
        [row[c.strip()] for c in OPEN_COLUMNS.split(",")],
    )
    con.execute(
        "INSERT INTO incident_events (incident_id, from_status, to_status, occurred_at, actor, note)"
        " VALUES (?, NULL, 'reported', ?, ?, ?)",
        [row["incident_id"], row["reported_at"], actor, note],
    )
