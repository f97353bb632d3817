"""The database schema, its version, and the migrations that bring an older file up to it.

``SCHEMA`` is every table as ``CREATE … IF NOT EXISTS``; ``SCHEMA_VERSION`` is kept in ``meta``
(key ``schema_version``).  Opening a file for writing (:func:`ensure_schema`) creates what is
missing, then runs each migration between the file's version and this one, in one transaction.
A migration is frozen: it says what that upgrade did, in its own SQL, and does not call code that
may change later.
"""

from __future__ import annotations

import duckdb

from geo.h3cells import COVER_RES, POINT_RES, parent_sql_macro
from pipelines.domain import CATEGORIES, LIFE_CIRCLE_LABELS, LIFE_CIRCLES_M, SERVICE_STANDARDS
from pipelines.errors import GridtwinError
from pipelines.store.governance import GOVERNANCE_SCHEMA
from pipelines.store.loop_rollup import LOOP_DAILY_SCHEMA
from pipelines.store.party import PARTY_SCHEMA, seed_standards
from pipelines.vocabulary import OPEN_SQL

SCHEMA_VERSION = 9
"""1: before the derived tables ``open_incidents`` and ``resolutions``; 2: with them; 3: server-side
sessions, disabled users, revoked-key times, idempotency tokens scoped to a caller and bound to a payload,
and no signing secret in ``meta``; 4: the party tables; 5: ``incidents.archived`` (old open items of a
historical import, kept out of ``open_incidents``); 6: the governance tables (吹哨报到, 核查, 议事协商) and
 ``assignments.level`` (分级置办); 7: the loop's daily roll-up ``loop_daily`` (derived, for the cockpit);
8: ``recent_incidents`` (the last days' incidents in grid order); 9: ``loop_community_daily`` (the loop's roll-up
per community and day, for the leader's tables)."""

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
    grid_code VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR,
    archived BOOLEAN);
-- Open incidents (上报 … 处置中) that are not archived, kept in step with incidents by every write path
-- (pipelines.incidents.repository.sync_derived_tables):
-- open and overdue figures read this small table instead of scanning the whole history.
CREATE TABLE IF NOT EXISTS open_incidents (
    incident_id VARCHAR, category VARCHAR, status VARCHAR, priority VARCHAR, reported_at TIMESTAMP,
    due_at TIMESTAMP, grid_code VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR);
-- Resolved incidents ordered by resolved_at, kept in step like open_incidents: handling time and
-- satisfaction "of what was resolved lately" read this instead of scanning resolved_at across all history.
CREATE TABLE IF NOT EXISTS resolutions (
    incident_id VARCHAR, resolved_at TIMESTAMP, reported_at TIMESTAMP, status VARCHAR, satisfaction TINYINT,
    grid_code VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR);
-- Incidents reported or resolved since meta.recent_since, in grid order, kept in step like open_incidents
-- (pipelines.incidents.recent): a community's or grid's week without scanning the whole city's week.
CREATE TABLE IF NOT EXISTS recent_incidents (
    incident_id VARCHAR, category VARCHAR, status VARCHAR, priority VARCHAR, reported_at TIMESTAMP,
    due_at TIMESTAMP, resolved_at TIMESTAMP, satisfaction TINYINT,
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
    incident_id VARCHAR PRIMARY KEY, assignee_type VARCHAR, assignee VARCHAR, assigned_at TIMESTAMP, actor VARCHAR,
    level VARCHAR);
CREATE TABLE IF NOT EXISTS users (
    username VARCHAR PRIMARY KEY, role VARCHAR, password_hash VARCHAR, created_at TIMESTAMP,
    disabled BOOLEAN DEFAULT false);
CREATE TABLE IF NOT EXISTS api_keys (
    key_id VARCHAR PRIMARY KEY, name VARCHAR, role VARCHAR, key_hash VARCHAR UNIQUE, created_at TIMESTAMP,
    revoked BOOLEAN DEFAULT false, revoked_at TIMESTAMP);
-- Dashboard sessions: the cookie holds a random id, this table only its SHA-256 digest.
CREATE TABLE IF NOT EXISTS sessions (
    session_hash VARCHAR PRIMARY KEY, username VARCHAR, csrf_token VARCHAR, created_at TIMESTAMP,
    last_seen TIMESTAMP);
-- Idempotency tokens are per caller (API key id or user) and remember the digest of the body they came with.
CREATE TABLE IF NOT EXISTS intake_tokens (
    caller VARCHAR, token VARCHAR, incident_id VARCHAR, payload_sha256 VARCHAR, created_at TIMESTAMP,
    PRIMARY KEY (caller, token));
{PARTY_SCHEMA}
{GOVERNANCE_SCHEMA}
{LOOP_DAILY_SCHEMA}
{parent_sql_macro()};
CREATE OR REPLACE MACRO h3_resolution(cell) AS ((cell::UBIGINT >> 52) & 15::UBIGINT);
"""

OPEN_COLUMNS = (
    "incident_id, category, status, priority, reported_at, due_at, grid_code, community_code, street_code,"
    " district_code"
)
"""The columns of ``open_incidents`` (a subset of ``incidents``)."""
RESOLVED_COLUMNS = (
    "incident_id, resolved_at, reported_at, status, satisfaction, grid_code, community_code, street_code, district_code"
)
"""The columns of ``resolutions`` (a subset of ``incidents``)."""


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


def _add_derived_tables(con: duckdb.DuckDBPyConnection) -> None:
    """1 → 2: fill the new ``open_incidents`` and ``resolutions`` from the incidents already stored."""
    con.execute(f"INSERT INTO open_incidents SELECT {OPEN_COLUMNS} FROM incidents WHERE {OPEN_SQL}")
    con.execute(
        f"INSERT INTO resolutions SELECT {RESOLVED_COLUMNS} FROM incidents WHERE resolved_at IS NOT NULL"
        " ORDER BY resolved_at"
    )


def _sessions_and_scoped_tokens(con: duckdb.DuckDBPyConnection) -> None:
    """2 → 3: users may be disabled, keys remember when they were revoked, tokens belong to a caller,
    and the session signing secret leaves the file (sessions are rows of ``sessions`` now)."""
    con.execute("ALTER TABLE users ADD COLUMN IF NOT EXISTS disabled BOOLEAN DEFAULT false")
    con.execute("ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS revoked_at TIMESTAMP")
    columns = {
        row[0]
        for row in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'intake_tokens'").fetchall()
    }
    if "caller" not in columns:  # tokens of unknown callers keep their incident but match no new caller
        con.execute(
            "CREATE TABLE intake_tokens_v3 (caller VARCHAR, token VARCHAR, incident_id VARCHAR,"
            " payload_sha256 VARCHAR, created_at TIMESTAMP, PRIMARY KEY (caller, token))"
        )
        con.execute(
            "INSERT INTO intake_tokens_v3 SELECT '(before v3)', token, incident_id, NULL, created_at FROM intake_tokens"
        )
        con.execute("DROP TABLE intake_tokens")
        con.execute("ALTER TABLE intake_tokens_v3 RENAME TO intake_tokens")
    con.execute("DELETE FROM meta WHERE key = 'session_secret'")


def _add_party_tables(con: duckdb.DuckDBPyConnection) -> None:
    """3 → 4: the party-building tables are new and start empty (created by ``SCHEMA``); nothing to backfill."""


def _archived_incidents(con: duckdb.DuckDBPyConnection) -> None:
    """4 → 5: incidents may be archived (``gridtwin load incidents --archive-before DATE``); archived rows
    keep their status but leave ``open_incidents`` (files loaded with an early build may have the column)."""
    con.execute("ALTER TABLE incidents ADD COLUMN IF NOT EXISTS archived BOOLEAN")
    con.execute("DELETE FROM open_incidents WHERE incident_id IN (SELECT incident_id FROM incidents WHERE archived)")


def _governance(con: duckdb.DuckDBPyConnection) -> None:
    """5 → 6: the governance tables are new and start empty (created by ``SCHEMA``); a dispatch records its
    level (分级置办: street or district), unknown for the dispatches made before."""
    con.execute("ALTER TABLE assignments ADD COLUMN IF NOT EXISTS level VARCHAR")


_LOOP_SUMS_V7 = (
    "due",
    "closed",
    "closed_on_time",
    "resolved",
    "handling_us",
    "handling_n",
    "satisfaction_sum",
    "satisfaction_n",
    "reworked",
    "evaluation_sum",
    "evaluation_n",
)
"""The loop roll-ups' sums as schema 7 made them: the migrations' own copy (a migration does not change when the
live code's list does), shared by the migrations 6 → 7 and 8 → 9."""


def _loop_daily(con: duckdb.DuckDBPyConnection) -> None:
    """6 → 7: fill the new ``loop_daily`` and ``loop_district_daily`` (created by ``SCHEMA``) from the
    incidents and checks."""
    part = "SELECT t.{t}::DATE AS day, grid_code, community_code, street_code, district_code, {s} FROM {f} GROUP BY ALL"
    parts = [
        part.format(
            t="due_at",
            s="count(*) AS due, count(resolved_at) AS closed,"
            " count(*) FILTER (WHERE resolved_at <= due_at) AS closed_on_time",
            f="incidents t WHERE due_at IS NOT NULL AND NOT coalesce(archived, false)",
        ),
        part.format(
            t="resolved_at",
            s="count(*) AS resolved, sum(datediff('microsecond', reported_at, resolved_at)) AS handling_us,"
            " count(reported_at) AS handling_n,"
            " sum(satisfaction) FILTER (WHERE status = 'evaluated') AS satisfaction_sum,"
            " count(satisfaction) FILTER (WHERE status = 'evaluated') AS satisfaction_n",
            f="incidents t WHERE resolved_at IS NOT NULL",
        ),
        part.format(
            t="verified_at",
            s="count(*) FILTER (WHERE NOT passed) AS reworked,"
            " sum(score) FILTER (WHERE kind = '核查') AS evaluation_sum,"
            " count(score) FILTER (WHERE kind = '核查') AS evaluation_n",
            f="verifications t",
        ),
    ]
    sums = _LOOP_SUMS_V7
    con.execute("DELETE FROM loop_daily")
    con.execute(
        "INSERT INTO loop_daily BY NAME SELECT day, grid_code, community_code, street_code, district_code, "
        + ", ".join(f"coalesce(sum({c}), 0) AS {c}" for c in sums)
        + " FROM ("
        + " UNION ALL BY NAME ".join(f"({p})" for p in parts)
        + ") GROUP BY ALL ORDER BY grid_code, day"
    )
    _sum_loop_daily(con, "loop_district_daily", "district_code")


def _recent_incidents(con: duckdb.DuckDBPyConnection) -> None:
    """7 → 8: ``recent_incidents`` (the last days' incidents in grid order) is built from ``incidents``."""
    from pipelines.incidents.recent import rebuild_recent  # the incident family's module; it imports the store

    rebuild_recent(con)


def _loop_community_daily(con: duckdb.DuckDBPyConnection) -> None:
    """8 → 9: fill the new ``loop_community_daily`` (created by ``SCHEMA``) from ``loop_daily``, in day order."""
    _sum_loop_daily(con, "loop_community_daily", "community_code, street_code, district_code")


def _sum_loop_daily(con: duckdb.DuckDBPyConnection, table: str, codes: str) -> None:
    """Fill a coarser loop roll-up ``table`` with ``loop_daily``'s sums per day and ``codes``, in day order."""
    con.execute(f"DELETE FROM {table}")
    con.execute(
        f"INSERT INTO {table} BY NAME SELECT day, {codes}, "
        + ", ".join(f"sum({c}) AS {c}" for c in _LOOP_SUMS_V7)
        + f" FROM loop_daily GROUP BY ALL ORDER BY day, {codes}"
    )


MIGRATIONS = {
    2: _add_derived_tables,
    3: _sessions_and_scoped_tokens,
    4: _add_party_tables,
    5: _archived_incidents,
    6: _governance,
    7: _loop_daily,
    8: _recent_incidents,
    9: _loop_community_daily,
}
"""version: the step that upgrades a file from the version before it."""


def file_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The schema version of an open database; None for a new (empty) file.

    Files from before the version was recorded are recognised by their tables.
    """
    tables = {
        row[0] for row in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()
    }
    if "meta" not in tables:
        return None
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is not None:
        return int(row[0])
    return 2 if {"open_incidents", "resolutions"} <= tables else 1


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing, upgrade an older file, and seed the default tables; all or nothing."""
    version = file_version(con)
    if version is not None and version > SCHEMA_VERSION:
        raise GridtwinError(
            f"the database has schema version {version} but this gridtwin knows only up to {SCHEMA_VERSION}:"
            " upgrade gridtwin to open it"
        )
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(SCHEMA)
        for step in range((version or SCHEMA_VERSION) + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[step](con)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
        _seed(con)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _seed(con: duckdb.DuckDBPyConnection) -> None:
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
    seed_standards(con)
