"""Dashboard users and API keys (hashes only: :mod:`pipelines.auth` makes and checks them)."""

from __future__ import annotations

import duckdb
import pandas as pd


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
