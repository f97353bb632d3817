"""Intake's group commit: reports arriving together share one transaction, tokens hold within a group."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from pipelines.area import read_area
from pipelines.incidents import intake
from pipelines.store import Database

NOW = dt.datetime(2026, 11, 23, 9, 30, 0)


@pytest.fixture
def city(grid_db):
    db = Database(grid_db)
    with db.cursor() as cur:
        area = read_area(cur)
        lon, lat = cur.execute("SELECT lon, lat FROM grids ORDER BY grid_code LIMIT 1").fetchone()
        category = cur.execute("SELECT min(category) FROM categories").fetchone()[0]
    yield db, area, {"service_code": category, "lat": lat, "long": lon}
    db.close()


def _together(db, calls):
    """Run the calls on threads that queue (in order) while the write lock is held, so they share group commits."""
    outcomes: list = [None] * len(calls)

    def run(k):
        try:
            outcomes[k] = calls[k]()
        except intake.RequestError as exc:
            outcomes[k] = exc

    with db.lock:
        threads = [threading.Thread(target=run, args=(k,)) for k in range(len(calls))]
        for k, t in enumerate(threads):
            t.start()
            while len(db._queue) < k + 1:
                threading.Event().wait(0.001)
    for t in threads:
        t.join()
    return outcomes


def test_reports_arriving_together_share_one_commit(city):
    db, area, body = city
    with db.cursor() as cur:
        before = int(cur.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()[0])
    calls = [lambda k=k: intake.submit(db, area, {**body, "description": f"第{k}条"}, NOW, "key:a") for k in range(12)]
    outcomes = _together(db, calls)
    assert db.group_sizes == [12]
    ids = [incident_id for incident_id, created in outcomes]
    assert all(created for _, created in outcomes) and len(set(ids)) == 12
    with db.cursor() as cur:
        rows = cur.execute(
            "SELECT i.incident_id, i.description, i.due_at - i.reported_at, e.actor, o.incident_id IS NOT NULL"
            " FROM incidents i JOIN incident_events e USING (incident_id)"
            " LEFT JOIN open_incidents o USING (incident_id) WHERE i.incident_id IN (SELECT unnest(?::VARCHAR[]))",
            [ids],
        ).fetchall()
        deadline = cur.execute(
            "SELECT deadline_h FROM categories WHERE category = ?", [body["service_code"]]
        ).fetchone()
        version = cur.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()[0]
    assert len(rows) == 12 and {r[1] for r in rows} == {f"第{k}条" for k in range(12)}
    assert all(r[2] == dt.timedelta(hours=deadline[0]) and r[3] == "key:a" and r[4] for r in rows)
    assert int(version) == before + 1  # the change counter moves once per group


def test_a_token_used_twice_in_one_group_stores_one_report(city):
    db, area, body = city
    same = {**body, "token": "t-1", "description": "路灯不亮"}
    calls = [
        lambda: intake.submit(db, area, same, NOW, "key:a", scope="key:K1"),
        lambda: intake.submit(db, area, same, NOW, "key:a", scope="key:K1"),
        lambda: intake.submit(db, area, {**same, "description": "另一件事"}, NOW, "key:a", scope="key:K1"),
        lambda: intake.submit(db, area, same, NOW, "key:b", scope="key:K2"),  # another caller: its own token
    ]
    first, again, conflict, other = _together(db, calls)
    assert db.group_sizes == [4]
    assert first[1] is True and again == (first[0], False)
    assert isinstance(conflict, intake.TokenConflictError) and first[0] in str(conflict)
    assert other[1] is True and other[0] != first[0]
    # later, in a group of its own: the stored token answers
    assert intake.submit(db, area, same, NOW, "key:a", scope="key:K1") == (first[0], False)
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM incidents WHERE description = '路灯不亮'").fetchone()[0] == 2


def test_a_bad_report_is_refused_before_it_reaches_the_queue(city):
    db, area, body = city
    with pytest.raises(intake.RequestError, match="service_code 'no such' is unknown"):
        intake.submit(db, area, {**body, "service_code": "no such"}, NOW, "key:a")
    assert db.group_sizes == []


def test_new_ids_avoid_ids_already_stored(city, monkeypatch):
    db, area, body = city
    first, _ = intake.submit(db, area, body, NOW, "key:a")
    picks = iter([first, first, "OPNEW1"])
    monkeypatch.setattr(intake, "_new_id", lambda now: next(picks))
    assert intake.submit(db, area, body, NOW, "key:a") == ("OPNEW1", True)
