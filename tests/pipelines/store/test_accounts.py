"""Sessions expire (idle and absolute), belong to enabled users only, and end with the user's changes."""

from __future__ import annotations

from pipelines import auth, store
from pipelines.store.accounts import end_user_sessions, purge_sessions, save_session, session_row


def test_session_expiry_and_revocation(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    try:
        auth.add_user(con, "ann", "dispatcher", "ann-pass-123")
        save_session(con, "h1", "ann", "csrf-1")
        save_session(con, "h2", "ann", "csrf-2")
        assert session_row(con, "h1", 3600, 3600)[:3] == ("ann", "dispatcher", "csrf-1")
        con.execute("UPDATE sessions SET last_seen = last_seen - INTERVAL 2 HOUR WHERE session_hash = 'h1'")
        assert session_row(con, "h1", 3600, 86400) is None  # idle too long
        assert session_row(con, "h2", 3600, 86400) is not None
        con.execute("UPDATE sessions SET created_at = created_at - INTERVAL 8 DAY WHERE session_hash = 'h2'")
        assert session_row(con, "h2", 3600, 7 * 86400) is None  # older than the absolute limit
        purge_sessions(con, 3600, 7 * 86400)
        assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0

        save_session(con, "h3", "ann", "c")
        save_session(con, "h4", "ann", "c")
        assert end_user_sessions(con, "ann", keep_hash="h4") == 1
        assert session_row(con, "h4", 3600, 3600) is not None
        auth.update_user(con, "ann", role="viewer")
        assert session_row(con, "h4", 3600, 3600) is None
        save_session(con, "h5", "ann", "c")
        auth.add_user(con, "ann", "viewer", "ann-pass-456")  # resetting the password ends it too
        assert session_row(con, "h5", 3600, 3600) is None
    finally:
        con.close()
