"""The live feed writes through the load path: located, with history, and the change counter moves."""

from __future__ import annotations

import shutil

import pytest

from pipelines.incidents.simulate import Simulator
from pipelines.store import Database
from pipelines.store.meta import meta_value
from tests.conftest import DEMO_END


@pytest.fixture
def db(demo_db, tmp_path):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, path)
    database = Database(path)
    yield database
    database.close()


def test_tick_adds_a_located_incident_and_moves_others_along_the_loop(db):
    con = db.con
    version = int(con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()[0])
    reference = meta_value(con, "reference_version")
    events_before = con.execute("SELECT count(*) FROM incident_events").fetchone()[0]
    simulator = Simulator(db, clock=lambda: DEMO_END, seed=3, per_tick=2, advance_per_tick=3, govern=False)
    ids = simulator.tick()
    assert len(ids) == 2
    rows = con.execute(
        "SELECT status, grid_code, street_code, h3_cell, reported_at FROM incidents WHERE incident_id IN (?, ?)", ids
    ).fetchall()
    assert all(r[0] == "reported" and r[1] and r[2] and r[3] and r[4] == DEMO_END for r in rows)
    assert con.execute("SELECT count(*) FROM incident_events").fetchone()[0] == events_before + 2 + 3
    assert int(con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()[0]) == version + 1
    assert meta_value(con, "reference_version") == reference  # incidents leave reference-data caches alone
    # every incident's current status equals the last step of its history (ordered by time, then id)
    mismatched = con.execute(
        """
        SELECT count(*) FROM incidents i JOIN (
            SELECT incident_id, arg_max(to_status, (occurred_at, event_id)) AS last FROM incident_events GROUP BY 1) e
        USING (incident_id) WHERE e.last <> i.status
        """
    ).fetchone()[0]
    assert mismatched == 0


def test_open_incidents_follow_every_tick(db):
    con = db.con
    simulator = Simulator(db, clock=lambda: DEMO_END, seed=5, per_tick=3, advance_per_tick=20)
    for _ in range(3):
        simulator.tick()
    expected = con.execute(
        "SELECT incident_id, status FROM incidents WHERE status IN ('reported','accepted','dispatched','in_progress')"
        " ORDER BY 1"
    ).fetchall()
    assert con.execute("SELECT incident_id, status FROM open_incidents ORDER BY 1").fetchall() == expected


def test_new_incidents_take_the_deadlines_the_admin_set(db):
    con = db.con
    con.execute("UPDATE categories SET deadline_h = 5")
    simulator = Simulator(db, clock=lambda: DEMO_END, seed=4, per_tick=3, advance_per_tick=0)
    ids = simulator.tick()
    hours = con.execute(
        "SELECT DISTINCT epoch(due_at - reported_at) / 3600 FROM incidents WHERE incident_id IN (?, ?, ?)", ids
    ).fetchall()
    assert hours == [(5.0,)]


def test_ticks_check_whistle_report_and_rate(db):
    con = db.con

    def count(table):
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    before = {t: count(t) for t in ("verifications", "whistles")}
    rated_before = con.execute("SELECT count(rating) FROM whistles").fetchone()[0]
    simulator = Simulator(db, clock=lambda: DEMO_END, seed=9, per_tick=1, advance_per_tick=5)
    for _ in range(12):
        simulator.tick()
    assert count("verifications") > before["verifications"]  # one 核查 per tick while resolved ones remain
    assert count("whistles") > before["whistles"]
    assert con.execute("SELECT count(rating) FROM whistles").fetchone()[0] > rated_before
    verified = con.execute(
        "SELECT count(*) FROM incident_events WHERE actor = '实时模拟' AND to_status IN ('verified', 'in_progress')"
        " AND from_status = 'resolved'"
    ).fetchone()[0]
    assert verified >= 10
    mismatched = con.execute(
        """
        SELECT count(*) FROM incidents i JOIN (
            SELECT incident_id, arg_max(to_status, (occurred_at, event_id)) AS last FROM incident_events GROUP BY 1) e
        USING (incident_id) WHERE e.last <> i.status
        """
    ).fetchone()[0]
    assert mismatched == 0
