"""Dashboard users, API keys and sessions (hashes only: :mod:`pipelines.auth` makes and checks them).

A session row holds the SHA-256 digest of the random id in the browser's cookie, never the id
itself: a copy of the file cannot be used to act as anyone.  Every write to users or API keys moves the
credentials version (:func:`~pipelines.store.meta.bump_credentials_version`) in the same transaction.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.store.meta import bump_credentials_version


def save_user(con: duckdb.DuckDBPyConnection, username: str, role: str, password_hash: str) -> bool:
    """Create the user or replace its role and password (a disabled user stays disabled); True when new."""
    new = con.execute("SELECT count(*) FROM users WHERE username = ?", [username]).fetchone()[0] == 0
    con.execute(
        "INSERT INTO users (username, role, password_hash, created_at, disabled) VALUES (?, ?, ?, now()::TIMESTAMP, false)"
        " ON CONFLICT (username) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash",
        [username, role, password_hash],
    )
    bump_credentials_version(con)
    return new


def user_row(con: duckdb.DuckDBPyConnection, username: str) -> tuple[str, str, bool] | None:
    """(role, password_hash, disabled) of a user."""
    return con.execute("SELECT role, password_hash, disabled FROM users WHERE username = ?", [username]).fetchone()


def users_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT username, role, disabled, created_at FROM users ORDER BY username").df()


def update_user(
    con: duckdb.DuckDBPyConnection, username: str, role: str | None, disabled: bool | None, password_hash: str | None
) -> bool:
    """Change the given fields of a user; False when there is no such user."""
    if user_row(con, username) is None:
        return False
    con.execute(
        "UPDATE users SET role = coalesce(?, role), disabled = coalesce(?, disabled),"
        " password_hash = coalesce(?, password_hash) WHERE username = ?",
        [role, disabled, password_hash, username],
    )
    bump_credentials_version(con)
    return True


def delete_user(con: duckdb.DuckDBPyConnection, username: str) -> bool:
    found = user_row(con, username) is not None
    con.execute("DELETE FROM sessions WHERE username = ?", [username])
    con.execute("DELETE FROM users WHERE username = ?", [username])
    bump_credentials_version(con)
    return found


def save_api_key(con: duckdb.DuckDBPyConnection, key_id: str, name: str, role: str, key_hash: str) -> None:
    con.execute(
        "INSERT INTO api_keys (key_id, name, role, key_hash, created_at) VALUES (?, ?, ?, ?, now()::TIMESTAMP)",
        [key_id, name, role, key_hash],
    )
    bump_credentials_version(con)


def api_key_row(con: duckdb.DuckDBPyConnection, key_hash: str) -> tuple[str, str, str] | None:
    """(key_id, name, role) of a valid (not revoked) key."""
    return con.execute(
        "SELECT key_id, name, role FROM api_keys WHERE key_hash = ? AND NOT revoked", [key_hash]
    ).fetchone()


def api_keys_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every key without its digest: id, name, role, created, revoked, revoked_at."""
    return con.execute(
        "SELECT key_id AS id, name, role, created_at AS created, revoked, revoked_at FROM api_keys"
        " ORDER BY created_at, key_id"
    ).df()


def revoke_api_key(con: duckdb.DuckDBPyConnection, key_id: str) -> bool:
    """Revoke a key (it stays listed); False when there is no such key."""
    found = con.execute("SELECT count(*) FROM api_keys WHERE key_id = ?", [key_id]).fetchone()[0] > 0
    con.execute(
        "UPDATE api_keys SET revoked = true, revoked_at = coalesce(revoked_at, now()::TIMESTAMP) WHERE key_id = ?",
        [key_id],
    )
    bump_credentials_version(con)
    return found


def save_session(con: duckdb.DuckDBPyConnection, session_hash: str, username: str, csrf_token: str) -> None:
    con.execute(
        "INSERT INTO sessions VALUES (?, ?, ?, now()::TIMESTAMP, now()::TIMESTAMP)",
        [session_hash, username, csrf_token],
    )


def session_row(
    con: duckdb.DuckDBPyConnection, session_hash: str, idle_s: float, absolute_s: float
) -> tuple[str, str, str, float] | None:
    """(username, role, csrf_token, seconds since last seen) of a live session of an enabled user."""
    return con.execute(
        "SELECT s.username, u.role, s.csrf_token, epoch(now()::TIMESTAMP - s.last_seen)"
        " FROM sessions s JOIN users u USING (username)"
        " WHERE s.session_hash = ? AND NOT u.disabled"
        " AND s.last_seen > now()::TIMESTAMP - to_seconds(?) AND s.created_at > now()::TIMESTAMP - to_seconds(?)",
        [session_hash, idle_s, absolute_s],
    ).fetchone()


def touch_session(con: duckdb.DuckDBPyConnection, session_hash: str) -> None:
    con.execute("UPDATE sessions SET last_seen = now()::TIMESTAMP WHERE session_hash = ?", [session_hash])


def end_session(con: duckdb.DuckDBPyConnection, session_hash: str) -> None:
    con.execute("DELETE FROM sessions WHERE session_hash = ?", [session_hash])


def end_user_sessions(con: duckdb.DuckDBPyConnection, username: str, keep_hash: str | None = None) -> int:
    """End every session of a user (but ``keep_hash``); returns how many ended."""
    count = con.execute(
        "SELECT count(*) FROM sessions WHERE username = ? AND session_hash IS DISTINCT FROM ?", [username, keep_hash]
    ).fetchone()[0]
    con.execute("DELETE FROM sessions WHERE username = ? AND session_hash IS DISTINCT FROM ?", [username, keep_hash])
    return count


def purge_sessions(con: duckdb.DuckDBPyConnection, idle_s: float, absolute_s: float) -> None:
    """Delete the sessions that expired (idle or absolute)."""
    con.execute(
        "DELETE FROM sessions WHERE last_seen <= now()::TIMESTAMP - to_seconds(?)"
        " OR created_at <= now()::TIMESTAMP - to_seconds(?)",
        [idle_s, absolute_s],
    )
