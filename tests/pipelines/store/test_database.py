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


def _append(cur, items):
    """A grouped write for the tests: insert each item into t; an item 'bad' breaks its group, 'refused' is refused."""
    results = []
    for item in items:
        if item == "refused":
            results.append(ValueError("refused alone"))
            continue
        cur.execute("INSERT INTO t VALUES (?)", [0 if item == "bad" else item])
        if item == "bad":
            cur.execute("SELECT * FROM no_such_table")
        results.append(item * 10)
    return results


def _grouped_db(tmp_path):
    db = Database(tmp_path / "db.duckdb")
    with db.write() as cur:
        cur.execute("CREATE TABLE t (v INTEGER)")
    return db


def test_grouped_writes_share_transactions_and_each_gets_its_result(tmp_path):
    db = _grouped_db(tmp_path)
    results: dict[int, int] = {}
    gate = threading.Barrier(8)

    def writer(k):
        gate.wait()
        for i in range(k * 100, k * 100 + 25):
            results[i] = db.write_grouped(_append, i)

    with db.lock:  # hold the lock while the writers queue up: the first group must take several of them
        threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        while len(db._queue) < 8:
            threading.Event().wait(0.001)
    for t in threads:
        t.join()
    assert results == {i: i * 10 for i in results} and len(results) == 200
    with db.cursor() as cur:
        stored = sorted(v for (v,) in cur.execute("SELECT v FROM t").fetchall())
    assert stored == sorted(results)  # every item once: none lost, none written twice
    assert sum(db.group_sizes) == 200 and db.group_sizes[0] >= 8 and len(db.group_sizes) < 200
    db.close()


def test_a_failing_item_fails_alone(tmp_path):
    db = _grouped_db(tmp_path)
    outcomes: dict = {}

    def writer(item):
        try:
            outcomes[item] = db.write_grouped(_append, item)
        except Exception as exc:  # noqa: BLE001 - the test records which exception each caller got
            outcomes[item] = type(exc).__name__

    with db.lock:
        threads = [threading.Thread(target=writer, args=(item,)) for item in (1, "bad", 2, "refused", 3)]
        for t in threads:
            t.start()
        while len(db._queue) < 5:
            threading.Event().wait(0.001)
    for t in threads:
        t.join()
    assert outcomes == {1: 10, 2: 20, 3: 30, "bad": "CatalogException", "refused": "ValueError"}
    with db.cursor() as cur:
        assert sorted(v for (v,) in cur.execute("SELECT v FROM t").fetchall()) == [1, 2, 3]
    db.close()


def _interrupting(cur, items):
    cur.execute("INSERT INTO t VALUES (1)")
    raise KeyboardInterrupt  # as Ctrl+C arriving in the writing thread


def test_an_interrupted_group_stores_nothing_and_tells_every_caller(tmp_path):
    db = _grouped_db(tmp_path)
    outcomes: dict = {}

    def writer(name, apply, item):
        try:
            outcomes[name] = db.write_grouped(apply, item)
        except BaseException as exc:  # noqa: BLE001 - the test records which exception each caller got
            outcomes[name] = exc

    with db.lock:
        threads = [
            threading.Thread(target=writer, args=("writer", _interrupting, 1)),
            threading.Thread(target=writer, args=("waiting", _append, 2)),
        ]
        for k, t in enumerate(threads):
            t.start()
            while len(db._queue) < k + 1:
                threading.Event().wait(0.001)
    for t in threads:
        t.join(10)
    assert isinstance(outcomes["writer"], KeyboardInterrupt)
    assert "interrupted before it was committed" in str(outcomes["waiting"])
    assert db.write_grouped(_append, 3) == 30  # the next caller writes as usual
    with db.cursor() as cur:
        assert [v for (v,) in cur.execute("SELECT v FROM t").fetchall()] == [3]
    db.close()
