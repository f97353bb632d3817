"""The Database object: one connection, one write lock, all-or-nothing write transactions."""

from __future__ import annotations

import threading

import pytest

from pipelines.store import Database
from pipelines.store.meta import bump_data_version, meta_value


def test_write_commits_or_rolls_back(tmp_path):
    db = Database(tmp_path / "db.duckdb")
    with db.write() as cur:
        bump_data_version(cur)
    with pytest.raises(RuntimeError), db.write() as cur:
        bump_data_version(cur)
        raise RuntimeError("boom")
    with db.cursor() as cur:
        assert meta_value(cur, "data_version") == "1"
    db.close()


def test_incident_writes_leave_the_reference_counter_alone(tmp_path):
    db = Database(tmp_path / "db.duckdb")
    with db.write() as cur:
        bump_data_version(cur)  # a load: both counters move
        bump_data_version(cur, reference=False)  # an incident: only the data version
    with db.cursor() as cur:
        assert (meta_value(cur, "data_version"), meta_value(cur, "reference_version")) == ("2", "1")
    db.close()


def test_concurrent_writers_are_serialised(tmp_path):
    db = Database(tmp_path / "db.duckdb")

    def bump():
        for _ in range(20):
            with db.write() as cur:
                bump_data_version(cur)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.cursor() as cur:
        assert meta_value(cur, "data_version") == "80"  # no write conflict, no lost update
    db.close()
