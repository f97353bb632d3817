"""The ``meta`` table: settings and the change counter the dashboard polls (schema.py keeps the schema version here)."""

from __future__ import annotations

import duckdb


def meta_value(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])


REFERENCE_VERSION = "reference_version"
"""A second counter that only moves when reference data changes (loads, coverage runs, party data, settings),
not when incidents arrive or move along the loop: caches of pages that read no incidents key on it."""


def bump_data_version(con: duckdb.DuckDBPyConnection, *, reference: bool = True) -> None:
    """The cheap change counter the dashboard polls; ``reference=False`` for writes that touch only incidents
    (intake, the loop, the simulator), which leave the reference counter alone."""
    con.execute("UPDATE meta SET value = (value::BIGINT + 1)::VARCHAR WHERE key = 'data_version'")
    if reference:
        con.execute(
            "INSERT INTO meta VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET value = (value::BIGINT + 1)::VARCHAR",
            [REFERENCE_VERSION],
        )


CREDENTIALS_VERSION = "credentials_version"
"""Moves on with every write to users or API keys: the server's key cache (:class:`pipelines.auth.KeyCache`)
is emptied when it changed, so a revoked key or a disabled user is refused from the next request on."""


def bump_credentials_version(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "INSERT INTO meta VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET value = (value::BIGINT + 1)::VARCHAR",
        [CREDENTIALS_VERSION],
    )


def credentials_version(con: duckdb.DuckDBPyConnection) -> str:
    return meta_value(con, CREDENTIALS_VERSION) or "0"
