"""Schema versions: a new file gets the current one, an older file is upgraded when opened for writing."""

from __future__ import annotations

import re

import duckdb
import pytest

from pipelines import store
from pipelines.errors import GridtwinError
from pipelines.store.governance import GOVERNANCE_TABLES
from pipelines.store.meta import meta_value
from pipelines.store.party import PARTY_SCHEMA
from pipelines.store.schema import SCHEMA_VERSION, file_version


def test_a_new_file_gets_the_current_version(tmp_path):
    con = store.connect(tmp_path / "new.duckdb")
    assert meta_value(con, "schema_version") == str(SCHEMA_VERSION)
    assert file_version(con) == SCHEMA_VERSION
    assert con.execute("SELECT count(*) FROM categories").fetchone()[0] > 0


def _version_1_file(path):
    """A file as gridtwin wrote it before open_incidents/resolutions and before the version was recorded."""
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT INTO meta VALUES ('data_version', '7'), ('point_res', '12'), ('cover_res', '10')")
    con.execute(
        """
        CREATE TABLE incidents (
            incident_id VARCHAR, category VARCHAR, affair_class VARCHAR, source VARCHAR, priority VARCHAR,
            status VARCHAR, reported_at TIMESTAMP, due_at TIMESTAMP, resolved_at TIMESTAMP,
            description VARCHAR, address VARCHAR, reporter_name VARCHAR, reporter_phone VARCHAR,
            satisfaction TINYINT, lon DOUBLE, lat DOUBLE, h3_cell UBIGINT,
            grid_code VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR)
        """
    )
    con.execute(
        """
        INSERT INTO incidents (incident_id, category, status, reported_at, due_at, resolved_at, satisfaction, grid_code)
        VALUES ('A', '噪声扰民', 'reported', '2026-11-01 08:00', '2026-11-02 08:00', NULL, NULL, 'G1'),
               ('B', '噪声扰民', 'in_progress', '2026-11-01 09:00', '2026-11-02 09:00', NULL, NULL, 'G1'),
               ('C', '车辆停放', 'resolved', '2026-11-01 10:00', '2026-11-02 10:00', '2026-11-01 12:00', NULL, 'G2'),
               ('D', '车辆停放', 'evaluated', '2026-11-01 11:00', '2026-11-02 11:00', '2026-11-01 11:30', 4, 'G2')
        """
    )
    con.close()


def test_an_old_file_is_upgraded_when_opened(tmp_path):
    path = tmp_path / "old.duckdb"
    _version_1_file(path)
    old = duckdb.connect(str(path), read_only=True)
    assert file_version(old) == 1
    old.close()

    con = store.connect(path)
    assert meta_value(con, "schema_version") == str(SCHEMA_VERSION)
    assert meta_value(con, "data_version") == "7"  # kept, not reseeded
    assert con.execute("SELECT incident_id, status FROM open_incidents ORDER BY 1").fetchall() == [
        ("A", "reported"),
        ("B", "in_progress"),
    ]
    assert con.execute("SELECT incident_id, satisfaction FROM resolutions ORDER BY resolved_at").fetchall() == [
        ("D", 4),
        ("C", None),
    ]
    con.close()
    again = store.connect(path)  # opening an upgraded file changes nothing
    assert again.execute("SELECT count(*) FROM open_incidents").fetchone()[0] == 2
    again.close()


def test_a_file_from_a_newer_gridtwin_is_refused(tmp_path):
    path = tmp_path / "future.duckdb"
    store.connect(path).execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(GridtwinError, match="schema version 99 but this gridtwin knows only up to"):
        store.connect(path)


def _version_2_accounts(path):
    """The account tables as version 2 wrote them, with a session secret in meta and a global token."""
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT INTO meta VALUES ('schema_version', '2'), ('data_version', '3'), ('session_secret', 'abc')")
    con.execute("CREATE TABLE open_incidents (incident_id VARCHAR)")
    con.execute("CREATE TABLE resolutions (incident_id VARCHAR)")
    con.execute(
        "CREATE TABLE users (username VARCHAR PRIMARY KEY, role VARCHAR, password_hash VARCHAR, created_at TIMESTAMP)"
    )
    con.execute("INSERT INTO users VALUES ('chief', 'admin', 'scrypt$x$y', now()::TIMESTAMP)")
    con.execute(
        "CREATE TABLE api_keys (key_id VARCHAR PRIMARY KEY, name VARCHAR, role VARCHAR, key_hash VARCHAR UNIQUE,"
        " created_at TIMESTAMP, revoked BOOLEAN DEFAULT false)"
    )
    con.execute("INSERT INTO api_keys VALUES ('K1', 'hotline', 'intake', 'h', now()::TIMESTAMP, false)")
    con.execute("CREATE TABLE intake_tokens (token VARCHAR PRIMARY KEY, incident_id VARCHAR, created_at TIMESTAMP)")
    con.execute("INSERT INTO intake_tokens VALUES ('t-1', 'OP1', now()::TIMESTAMP)")
    con.close()


def test_version_2_gets_sessions_and_loses_its_session_secret(tmp_path):
    path = tmp_path / "v2.duckdb"
    _version_2_accounts(path)
    con = store.connect(path)
    try:
        assert meta_value(con, "schema_version") == str(SCHEMA_VERSION) == "9"
        assert meta_value(con, "session_secret") is None
        assert con.execute("SELECT username, disabled FROM users").fetchall() == [("chief", False)]
        assert con.execute("SELECT key_id, revoked, revoked_at FROM api_keys").fetchall() == [("K1", False, None)]
        assert con.execute("SELECT caller, token, incident_id FROM intake_tokens").fetchall() == [
            ("(before v3)", "t-1", "OP1")
        ]
        assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    finally:
        con.close()


def test_version_3_gets_the_party_tables_and_keeps_its_accounts(tmp_path):
    party_tables = re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", PARTY_SCHEMA)
    assert {"party_orgs", "party_members", "building_heads", "party_standards"} <= set(party_tables)
    path = tmp_path / "v3.duckdb"
    con = store.connect(path)
    con.execute("INSERT INTO users VALUES ('chief', 'admin', 'scrypt$x$y', now()::TIMESTAMP, false)")
    for table in party_tables:  # a file as version 3 wrote it: no party tables
        con.execute(f"DROP TABLE {table}")
    con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    con.close()

    con = store.connect(path)
    try:
        assert meta_value(con, "schema_version") == str(SCHEMA_VERSION) == "9"
        assert con.execute("SELECT username FROM users").fetchall() == [("chief",)]
        assert con.execute("SELECT count(*) FROM party_orgs").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM building_heads").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM party_standards").fetchone()[0] > 0  # seeded, editable
    finally:
        con.close()


def test_version_4_gets_archived_incidents_out_of_the_open_table(tmp_path):
    """4 → 5: the ``archived`` column appears; rows an early build archived leave ``open_incidents``."""
    path = tmp_path / "v4.duckdb"
    _version_1_file(path)
    store.connect(path).close()  # now at the current version; make it look like a version 4 file again
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE incidents DROP COLUMN archived")
    con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    con.execute("ALTER TABLE incidents ADD COLUMN archived BOOLEAN")  # as the real-data build's loader added it
    con.execute("UPDATE incidents SET archived = incident_id = 'A'")
    con.close()
    con = store.connect(path)
    try:
        assert meta_value(con, "schema_version") == str(SCHEMA_VERSION) == "9"
        assert con.execute("SELECT incident_id FROM open_incidents ORDER BY 1").fetchall() == [("B",)]
        assert con.execute("SELECT incident_id, archived FROM incidents ORDER BY 1").fetchall()[0] == ("A", True)
    finally:
        con.close()


def test_a_version_4_file_without_the_column_gets_it(tmp_path):
    path = tmp_path / "v4plain.duckdb"
    _version_1_file(path)
    store.connect(path).close()
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE incidents DROP COLUMN archived")
    con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    con.close()
    con = store.connect(path)
    try:
        assert con.execute("SELECT count(*) FROM incidents WHERE archived IS NULL").fetchone()[0] == 4
        assert con.execute("SELECT count(*) FROM open_incidents").fetchone()[0] == 2
    finally:
        con.close()


def test_version_5_gets_the_governance_tables_and_the_dispatch_level(tmp_path):
    """5 → 6: whistles, verifications and deliberations appear empty; assignments gain ``level``."""
    path = tmp_path / "v5.duckdb"
    _version_1_file(path)
    store.connect(path).close()
    con = duckdb.connect(str(path))
    for table in GOVERNANCE_TABLES:
        con.execute(f"DROP TABLE {table}")
    con.execute("DROP TABLE assignments")
    con.execute(
        "CREATE TABLE assignments (incident_id VARCHAR PRIMARY KEY, assignee_type VARCHAR, assignee VARCHAR,"
        " assigned_at TIMESTAMP, actor VARCHAR)"
    )
    con.execute("INSERT INTO assignments VALUES ('B', 'department', '城管执法', '2026-11-01 10:00', 'd1')")
    con.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    con.close()
    con = store.connect(path)
    try:
        assert meta_value(con, "schema_version") == str(SCHEMA_VERSION) == "9"
        assert con.execute("SELECT incident_id, assignee, level FROM assignments").fetchall() == [
            ("B", "城管执法", None)
        ]
        for table in GOVERNANCE_TABLES:
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM incidents").fetchone()[0] == 4
    finally:
        con.close()


def _back_to(path, version: int, *dropped: str) -> None:
    """The file migrated to the current schema, then made to look like schema ``version``: the tables that
    version did not have dropped."""
    store.connect(path).close()
    con = duckdb.connect(str(path))
    for table in dropped:
        con.execute(f"DROP TABLE {table}")
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(version)])
    con.close()


def test_version_6_gets_the_daily_roll_up_filled(tmp_path):
    """6 → 7: ``loop_daily`` appears, filled from the incidents (by deadline day and by resolution day)."""
    path = tmp_path / "v6.duckdb"
    _version_1_file(path)
    _back_to(path, 6, "loop_daily", "loop_district_daily")
    con = store.connect(path)
    try:
        assert meta_value(con, "schema_version") == str(SCHEMA_VERSION) == "9"
        rows = con.execute(
            "SELECT day::VARCHAR, grid_code, sum(due), sum(closed), sum(resolved), sum(satisfaction_n)"
            " FROM loop_daily GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        # A B due 11-02 in G1, open; C D due 11-02 in G2, resolved 11-01 (D evaluated)
        assert con.execute("SELECT sum(due), sum(resolved) FROM loop_district_daily").fetchone() == (4, 2)
        assert rows == [
            ("2026-11-01", "G2", 0, 0, 2, 1),
            ("2026-11-02", "G1", 2, 0, 0, 0),
            ("2026-11-02", "G2", 2, 2, 0, 0),
        ]
    finally:
        con.close()


def test_version_8_gets_the_community_roll_up_filled(tmp_path):
    """8 → 9: ``loop_community_daily`` appears, the sums of ``loop_daily`` per community and day."""
    path = tmp_path / "v8.duckdb"
    _version_1_file(path)
    con = duckdb.connect(str(path))
    con.execute("UPDATE incidents SET community_code = 'C' || grid_code, street_code = 'S1', district_code = 'D1'")
    con.close()
    _back_to(path, 8, "loop_community_daily")
    con = store.connect(path)
    try:
        assert meta_value(con, "schema_version") == str(SCHEMA_VERSION) == "9"
        rows = con.execute(
            "SELECT day::VARCHAR, community_code, street_code, district_code, sum(due), sum(closed), sum(resolved),"
            " sum(satisfaction_n) FROM loop_community_daily GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        assert rows == [
            ("2026-11-01", "CG2", "S1", "D1", 0, 0, 2, 1),
            ("2026-11-02", "CG1", "S1", "D1", 2, 0, 0, 0),
            ("2026-11-02", "CG2", "S1", "D1", 2, 2, 0, 0),
        ]
    finally:
        con.close()
