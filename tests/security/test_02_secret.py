"""Finding 2: the session signing secret lives in the database, so a copy of the file forges admin sessions."""

from __future__ import annotations

import stat

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from tests.security.conftest import Client, read_db, run_cli, start_server


def _secret_from_copy(db) -> str | None:
    """What an attacker holding a copy of the file (and a secret file beside it, if any) could sign with."""
    rows = read_db(db, "SELECT value FROM meta WHERE key = 'session_secret'")
    if rows:
        return rows[0][0]
    beside = db.with_name(db.name + ".secret")
    return beside.read_text().strip() if beside.exists() else None


def test_meta_holds_no_session_secret(fresh_server):
    running = fresh_server()
    running.stop()
    keys = [r[0] for r in read_db(running.db, "SELECT key FROM meta")]
    assert "session_secret" not in keys, "meta.session_secret: the signing secret is stored in the database"


def test_forged_signed_cookie_is_meaningless(fresh_server):
    running = fresh_server()
    running.stop()
    secret = _secret_from_copy(running.db) or "no-secret-anywhere"
    app = Flask("forger")
    app.secret_key = secret
    forged = SecureCookieSessionInterface().get_signing_serializer(app).dumps({"user": "ghost", "role": "admin"})
    again = start_server(running.db)
    try:
        ghost = Client(again, name="ghost")
        for name in ("session", "gridtwin_session"):
            ghost.http.cookies.set(name, forged, domain="127.0.0.1", path="/")
        reply = ghost.post(
            "/api/v1/users", json={"username": "ghost2", "role": "admin", "password": "ghost-pass-1"}, csrf=False
        )
        assert reply.status_code in (401, 403), f"a forged cookie created a user: HTTP {reply.status_code}"
        assert ghost.get("/api/v1/users").status_code in (401, 403)
    finally:
        again.stop()


def test_new_database_and_wal_are_private(tmp_path, data_dir):
    db = tmp_path / "fresh.duckdb"
    done = run_cli("load", "grids", str(data_dir / "grids.geojson"), "--db", str(db), umask=0o022)
    assert done.returncode == 0, done.stderr
    for path in (db, db.with_name(db.name + ".wal")):
        if path.exists():
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode == 0o600, f"{path.name} created with mode {oct(mode)} under umask 022 (expected 0o600)"


def test_secret_file_if_any_is_private(fresh_server):
    running = fresh_server()
    running.stop()
    beside = running.db.with_name(running.db.name + ".secret")
    if beside.exists():
        assert stat.S_IMODE(beside.stat().st_mode) == 0o600
    keys = [r[0] for r in read_db(running.db, "SELECT key FROM meta")]
    assert "session_secret" not in keys
