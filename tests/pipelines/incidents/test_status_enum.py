"""Schema 7: statuses are stored as the ENUM ``incident_status``; a schema 6 file (strings) is migrated in place."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from pipelines import store
from pipelines.incidents.repository import incident_history, incident_record, incident_status_counts
from pipelines.store.schema import SCHEMA_VERSION
from pipelines.vocabulary import STATUSES

STATUS_COLUMNS = [
    ("incidents", "status"),
    ("open_incidents", "status"),
    ("resolutions", "status"),
    ("incident_events", "from_status"),
    ("incident_events", "to_status"),
]


def column_types(con) -> dict[tuple[str, str], str]:
    rows = con.execute("SELECT table_name, column_name, data_type FROM duckdb_columns()").fetchall()
    return {(table, column): kind for table, column, kind in rows if (table, column) in STATUS_COLUMNS}


def version_6_file(path) -> None:
    """A file as schema 6 wrote it: the status columns are strings, with rows in every table."""
    con = store.connect(path)
    for table, column in STATUS_COLUMNS:
        con.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE VARCHAR")
    con.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    for k, status in enumerate(STATUSES):
        con.execute(
            "INSERT INTO incidents (incident_id, category, status, reported_at) VALUES (?, '噪声扰民', ?, ?)",
            [f"E{k}", status, f"2026-11-0{k + 1} 08:00:00"],
        )
        con.execute(
            "INSERT INTO incident_events (incident_id, from_status, to_status, occurred_at, actor, note)"
            " VALUES (?, NULL, 'reported', ?, 'import', 'v6'), (?, 'reported', ?, ?, 'import', 'v6')",
            [f"E{k}", f"2026-11-0{k + 1} 08:00:00", f"E{k}", status, f"2026-11-0{k + 1} 09:00:00"],
        )
    con.execute("INSERT INTO open_incidents (incident_id, status) VALUES ('E0', 'reported')")
    con.execute("INSERT INTO resolutions (incident_id, status) VALUES ('E4', 'resolved')")
    con.close()


def test_a_version_6_file_gets_enum_statuses_with_its_rows_unchanged(tmp_path):
    path = tmp_path / "v6.duckdb"
    version_6_file(path)
    with duckdb.connect(str(path), read_only=True) as con:
        assert set(column_types(con).values()) == {"VARCHAR"}
        before = con.execute("SELECT * FROM incident_events ORDER BY event_id").fetchall()
        order_before = con.execute("SELECT incident_id FROM incidents ORDER BY status").fetchall()
        history_before, record_before = incident_history(con, "E3"), incident_record(con, "E6")
    con = store.connect(path)
    try:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
        assert all(kind.startswith("ENUM(") for kind in column_types(con).values())
        assert con.execute("SELECT * FROM incident_events ORDER BY event_id").fetchall() == before
        assert con.execute("SELECT incident_id FROM incidents ORDER BY status").fetchall() == order_before
        assert incident_status_counts(con) == dict.fromkeys(sorted(STATUSES), 1)
        # readers that hand rows to pandas see what they saw on the strings (not a categorical)
        history = incident_history(con, "E3")
        pd.testing.assert_frame_equal(history, history_before)
        assert history["to_status"].tolist() == ["reported", STATUSES[3]]
        record = incident_record(con, "E6")
        assert record["status"] == STATUSES[6]
        assert record.keys() == record_before.keys()
        assert all(record[k] == record_before[k] or pd.isna(record_before[k]) for k in record)
    finally:
        con.close()


def test_a_status_outside_the_vocabulary_cannot_be_stored(tmp_path):
    con = store.connect(tmp_path / "t.duckdb")
    try:
        with pytest.raises(duckdb.ConversionException):
            con.execute("INSERT INTO incidents (incident_id, status) VALUES ('X1', 'lost')")
    finally:
        con.close()
