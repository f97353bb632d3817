"""``recent_incidents`` holds exactly the incidents its rule names after every write path, and the side
panels read the same week from it as from the base tables."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from dashboard import queries
from pipelines.area import read_area
from pipelines.incidents import intake, open311_reads, recent, repository
from pipelines.store import Database, schema
from tests.conftest import DEMO_END


@pytest.fixture
def db(demo_db, tmp_path):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, path)
    database = Database(path)
    yield database
    database.close()


def _expected(cur) -> list[tuple]:
    since = recent.recent_since(cur)
    return cur.execute(
        f"SELECT {recent.RECENT_COLUMNS} FROM incidents WHERE reported_at >= ? OR resolved_at >= ? ORDER BY 1",
        [since, since],
    ).fetchall()


def _held(cur) -> list[tuple]:
    return cur.execute(f"SELECT {recent.RECENT_COLUMNS} FROM recent_incidents ORDER BY 1").fetchall()


def test_every_write_path_keeps_the_table_equal_to_its_rule(db):
    with db.cursor() as cur:
        since = recent.recent_since(cur)
        assert since == dt.datetime(2026, 11, 14)  # built by the generator's full sync: 8 days before, from midnight
        assert len(_held(cur)) > 1000 and _held(cur) == _expected(cur)
        old_open, old_status = cur.execute(  # reported before the window: enters it when resolved now
            "SELECT incident_id, status FROM open_incidents WHERE status = 'in_progress' AND reported_at < ? LIMIT 1",
            [since],
        ).fetchone()
        area = read_area(cur)
        lon, lat = cur.execute("SELECT lon, lat FROM grids ORDER BY grid_code LIMIT 1").fetchone()
    assert old_status == "in_progress"
    with db.write() as cur:
        repository.apply_transition(cur, old_open, "in_progress", "resolved", DEMO_END, "test", None)
        repository.advance_open_incidents(cur, 200, DEMO_END, "test", seed=3)
    new_id, created = intake.submit(db, area, {"service_code": "噪声扰民", "lat": lat, "long": lon}, DEMO_END, "k")
    assert created
    with db.cursor() as cur:
        held = _held(cur)
        assert held == _expected(cur)
        ids = {row[0] for row in held}
        assert old_open in ids and new_id in ids


def test_side_panels_read_the_same_week_from_it_as_from_the_base_tables(db):
    week, now = DEMO_END - dt.timedelta(days=7), DEMO_END
    with db.cursor() as cur:
        grid, community = cur.execute(
            "SELECT grid_code, community_code FROM incidents WHERE reported_at >= ? GROUP BY ALL ORDER BY count(*) DESC",
            [week],
        ).fetchone()
        fast = {unit: queries.unit_week(cur, *unit, week, now) for unit in (("grid", grid), ("community", community))}
    with db.write() as cur:  # without the table's start the reads fall back to the base tables
        cur.execute("DELETE FROM meta WHERE key = 'recent_since'")
    with db.cursor() as cur:
        for unit, (reported, resolved) in fast.items():
            base_reported, base_resolved = queries.unit_week(cur, *unit, week, now)
            assert len(reported) > 0 and len(resolved) > 0
            key = ["incident_id"]
            assert (
                reported.sort_values(key)
                .reset_index(drop=True)
                .equals(base_reported.sort_values(key).reset_index(drop=True))
            )
            order = ["resolved_at", "reported_at", "status"]
            assert (
                resolved.sort_values(order)
                .reset_index(drop=True)
                .equals(base_resolved.sort_values(order).reset_index(drop=True))
            )


def test_the_migration_builds_it_for_a_schema_7_file(db):
    with db.write() as cur:
        cur.execute("DROP TABLE recent_incidents")
        cur.execute("DELETE FROM meta WHERE key = 'recent_since'")
        cur.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    with db.cursor() as cur:
        schema.ensure_schema(cur)
        assert schema.file_version(cur) == schema.SCHEMA_VERSION == 9
        assert recent.recent_since(cur) is not None and _held(cur) == _expected(cur)


def test_open311_pages_equal_the_correlated_history_query(db):
    """The page read in two steps (ids, then their rows and latest history) equals the one-statement query."""
    last = "(SELECT max(occurred_at) FROM incident_events e WHERE e.incident_id = i.incident_id) AS updated_at"
    start, end = DEMO_END - dt.timedelta(days=30), DEMO_END
    with db.write() as cur:  # one incident of the page moves on now: its latest history row is the new one
        moved = cur.execute(
            "SELECT incident_id FROM incidents WHERE status = 'reported' ORDER BY reported_at DESC LIMIT 1"
        ).fetchone()[0]
        repository.apply_transition(cur, moved, "reported", "accepted", DEMO_END, "test", None)
    with db.cursor() as cur:
        for args in ((None, None, None, 40, 0), (["噪声扰民"], ["accepted", "reported"], None, 25, 3)):
            got = open311_reads.open311_requests(cur, start, end, *args)
            want = cur.execute(
                f"SELECT {repository.INCIDENT_FIELDS}, {last} FROM {repository.INCIDENT_JOINS}"
                " WHERE i.reported_at >= ? AND i.reported_at <= ?"
                + (" AND i.category IN ('噪声扰民') AND i.status IN ('accepted', 'reported')" if args[0] else "")
                + " ORDER BY i.reported_at DESC, i.incident_id DESC LIMIT ? OFFSET ?",
                [start, end, args[3], args[4]],
            ).df()
            assert len(got) > 5 and got.equals(want)
        one = open311_reads.open311_requests(cur, dt.datetime.min, dt.datetime.max, None, None, [moved], 1)
        assert one["updated_at"].iloc[0] == DEMO_END and one["status"].iloc[0] == "accepted"
