"""Finding 3: `gridtwin demo --db` adds the published demo accounts to any database, and /login prints them."""

from __future__ import annotations

import requests

from tests.security.conftest import cli_ok, read_db, run_cli, start_server


def _real_db(tmp_path, data_dir):
    """A database built from a loaded grid file (not by demo/generate), with one real admin."""
    db = tmp_path / "real.duckdb"
    cli_ok("load", "grids", str(data_dir / "grids.geojson"), "--db", str(db))
    cli_ok("user", "add", "chief", "--role", "admin", "--password", "chief-pass-1", "--db", str(db))
    return db


def test_demo_refuses_a_real_database(tmp_path, data_dir):
    db = _real_db(tmp_path, data_dir)
    done = run_cli("demo", "--db", str(db), "--no-serve")
    assert done.returncode == 1, f"gridtwin demo on a real database exited {done.returncode}:\n{done.stdout[-500:]}"
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line naming the fix, got:\n{done.stderr}"
    assert "generate" in lines[0] or "new" in lines[0].lower(), lines[0]
    users = sorted(r[0] for r in read_db(db, "SELECT username FROM users"))
    assert users == ["chief"], f"demo accounts were added to a real database: {users}"


def test_login_page_hides_accounts_on_a_real_database(tmp_path, data_dir):
    db = _real_db(tmp_path, data_dir)
    run_cli("demo", "--db", str(db), "--no-serve")  # today this succeeds and plants the accounts
    running = start_server(db)
    try:
        page = requests.get(running.url("/login"), timeout=30).text
    finally:
        running.stop()
    assert "demo-admin" not in page and "demo-viewer" not in page, "the login page lists demo passwords"


def test_generated_demo_is_marked(demo_db):
    rows = read_db(demo_db, "SELECT value FROM meta WHERE key = 'demo_city'")
    assert rows == [("true",)], f"meta.demo_city of a generated demo city: {rows}"
