"""The whole-city figures read cheaply (roll-up, cached reference data, pruned windows) equal a full recomputation
from the base tables, on the demo city, before and after writes."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dashboard import duty_queries, kpi_queries, queries
from dashboard.models.unit_rows import hourly
from pipelines.area import read_area
from pipelines.incidents import intake, repository
from pipelines.store.meta import bump_data_version
from tests.conftest import DEMO_END

DISTRICT = "330180"


@pytest.fixture
def data(fresh_data):
    """A copy of the demo of its own per test: these tests write."""
    return fresh_data


def _units(cur) -> list[tuple[str, str | None]]:
    street, community = cur.execute(
        "SELECT street_code, community_code FROM resolutions WHERE resolved_at >= ? GROUP BY ALL ORDER BY count(*) DESC",
        [DEMO_END - dt.timedelta(days=7)],
    ).fetchone()
    return [("city", None), ("district", DISTRICT), ("street", street), ("community", community)]


def _both(cur, level, code, now) -> tuple[dict, dict]:
    day = now.replace(hour=0, minute=0, second=0)
    fast = kpi_queries.kpis(cur, level, code, day, now)
    full = kpi_queries.kpis(cur, level, code, day, now, rollup=False)
    return fast, full


RANKED = (("city", None, "street"), ("district", DISTRICT, "street"), ("district", DISTRICT, "community"))


def _rankings(cur, now) -> dict:
    """The leader tables read with the roll-up per community and day, checked equal to the full read, for windows
    with part days at both ends, whole days only, and less than a day."""
    midnight = now.replace(hour=0, minute=0, second=0)
    windows = (
        (now - dt.timedelta(days=7), now),
        (midnight - dt.timedelta(days=3), midnight),
        (now - dt.timedelta(hours=5), now),
    )
    got = {}
    for level, code, child in RANKED:
        for since, until in windows:
            fast = queries.ranking(cur, level, code, child, since, until)
            full = queries.ranking(cur, level, code, child, since, until, rollup=False)
            pd.testing.assert_frame_equal(fast, full, obj=str((level, child, since, until)))
            got[level, child, since] = fast
    return got


CLOCKS = (
    DEMO_END,
    DEMO_END + dt.timedelta(minutes=17),
    DEMO_END + dt.timedelta(hours=8),
    DEMO_END + dt.timedelta(days=1, hours=3),
)
"""The demo's end (18:00: the week's first part day added, today's the whole day less its rest), later that day,
early the next day (02:00: the first part day the whole day less its start, today's added), and the day after
(the writes' day is then a whole day of the roll-up)."""


def test_resolved_kpis_from_the_rollup_equal_the_resolutions_after_writes(data):
    with data.cursor() as cur:
        units = _units(cur)
        before = {}
        for unit in units:
            for now in CLOCKS:
                fast, full = _both(cur, *unit, now)
                assert fast == pytest.approx(full, nan_ok=True), (unit, now)
                before[unit, now] = fast
        ranked_before = {now: _rankings(cur, now) for now in CLOCKS}
        assert before[("city", None), DEMO_END]["satisfaction"] is not None
        area = read_area(cur)
        lon, lat = cur.execute("SELECT lon, lat FROM grids ORDER BY grid_code LIMIT 1").fetchone()
    two_days_ago = DEMO_END - dt.timedelta(days=2, hours=5)  # a whole day of the week at the demo's end
    with data.db.write() as cur:
        for seed in range(4):  # in progress → resolved, two days ago and now (the part day of today)
            repository.advance_open_incidents(cur, 300, two_days_ago, "test", seed=seed)
            repository.advance_open_incidents(cur, 300, DEMO_END, "test", seed=seed + 10)
        resolved = cur.execute(
            "SELECT incident_id FROM incidents WHERE status = 'resolved' AND resolved_at::DATE = ? LIMIT 40",
            [two_days_ago.date()],
        ).fetchall()
        for n, (incident_id,) in enumerate(resolved):  # evaluated: the satisfaction of a whole day moves
            repository.apply_transition(cur, incident_id, "resolved", "evaluated", DEMO_END, "test", None, 1 + n % 2)
        bump_data_version(cur, reference=False)
    intake.submit(data.db, area, {"service_code": "噪声扰民", "lat": lat, "long": lon}, DEMO_END, "k")
    with data.cursor() as cur:
        for unit in units:
            for now in CLOCKS:
                fast, full = _both(cur, *unit, now)
                assert fast == pytest.approx(full, nan_ok=True), (unit, now)
        ranked_after = {now: _rankings(cur, now) for now in CLOCKS}
        after = _both(cur, "city", None, DEMO_END)[0]
    week = ("city", "street", CLOCKS[-1] - dt.timedelta(days=7))  # the writes' day is a whole day of it
    moved = ranked_after[CLOCKS[-1]][week][["handling_h", "satisfaction"]].compare(
        ranked_before[CLOCKS[-1]][week][["handling_h", "satisfaction"]]
    )
    assert len(moved) > 0
    old = before[("city", None), DEMO_END]
    assert after["resolved_today"] > old["resolved_today"] and after["satisfaction"] != old["satisfaction"]
    assert after["handling_h"] != old["handling_h"] and after["reported_today"] == old["reported_today"] + 1


def test_resolved_kpis_match_pandas_at_city_and_street(data):
    with data.cursor() as cur:
        frame = cur.execute("SELECT street_code, reported_at, resolved_at, status, satisfaction FROM resolutions").df()
        street = _units(cur)[2][1]
        for level, code, rows in (("city", None, frame), ("street", street, frame[frame["street_code"] == street])):
            for now in CLOCKS:
                day, week = now.replace(hour=0, minute=0), now - dt.timedelta(days=7)
                got = kpi_queries.kpis(cur, level, code, day, now, ("resolved",))
                recent = rows[(rows["resolved_at"] >= week) & (rows["resolved_at"] <= now)]
                hours = (recent["resolved_at"] - recent["reported_at"]).dt.total_seconds() / 3600
                evaluated = recent.loc[recent["status"] == "evaluated", "satisfaction"].astype(float)
                assert got["resolved_today"] == (recent["resolved_at"] >= day).sum()
                assert got["handling_h"] == pytest.approx(hours.mean())
                assert got["satisfaction"] == pytest.approx(evaluated.mean())


@pytest.mark.parametrize("unit", [("city", None), ("district", DISTRICT)])
def test_trend_newest_and_just_in_match_pandas(data, unit):
    with data.cursor() as cur:
        rows = cur.execute("SELECT * FROM incidents").df()
        for now in (DEMO_END, DEMO_END - dt.timedelta(hours=5, minutes=7, seconds=3)):
            trend = kpi_queries.hourly_trend(cur, *unit, now)
            expected = hourly(rows["reported_at"], rows["resolved_at"], now)
            assert trend["reported"].sum() > 0 and trend["resolved"].sum() > 0
            assert (pd.to_datetime(trend["hour"]).to_numpy() == pd.to_datetime(expected["hour"]).to_numpy()).all()
            assert trend["reported"].tolist() == expected["reported"].tolist()
            assert trend["resolved"].tolist() == expected["resolved"].tolist()
            shown = rows[(rows["reported_at"] >= now - dt.timedelta(days=7)) & (rows["reported_at"] <= now)]
            top = shown.sort_values(["reported_at", "incident_id"], ascending=False).head(8)
            assert queries.newest(cur, *unit, now)["incident_id"].tolist() == top["incident_id"].tolist()
            since = now - dt.timedelta(minutes=30)
            points = queries.recent_points(cur, *unit, since, 5)
            late = rows[rows["reported_at"] >= since].sort_values("reported_at", ascending=False)
            assert points["reported_at"].tolist() == late["reported_at"].head(5).tolist()


def test_grid_workers_on_duty_are_read_once_per_reference_version(data):
    live = data.live
    with data.cursor() as cur:
        street = cur.execute("SELECT street_code FROM grids ORDER BY grid_code LIMIT 1").fetchone()[0]
        area = read_area(cur)
        lon, lat = cur.execute("SELECT lon, lat FROM grids ORDER BY grid_code LIMIT 1").fetchone()
        assert live.on_duty("street", street) == duty_queries.workers_on_duty(cur, "street", street)
    built = live._reference.built
    intake.submit(data.db, area, {"service_code": "噪声扰民", "lat": lat, "long": lon}, DEMO_END, "k")
    assert live.on_duty("street", street) == live.on_duty("street", street)
    assert live._reference.built == built  # a new incident moves no reference data: nothing read again
    with data.db.write() as cur:  # a load of grid workers (reference data) moves the reference counter
        cur.execute(
            "DELETE FROM grid_workers WHERE grid_code IN (SELECT grid_code FROM grids WHERE street_code = ? LIMIT 2)",
            [street],
        )
        bump_data_version(cur)
    with data.cursor() as cur:
        now_on_duty = duty_queries.workers_on_duty(cur, "street", street)
    assert live.on_duty("street", street) == now_on_duty and live._reference.built == built + 1


def _unit_reads(cur, level, code, now) -> dict:
    """What a district's (or street's) panels, map and ranking read from the reports, for windows within the
    recent table and one reaching before it."""
    day = now.replace(hour=0, minute=0, second=0)
    got = {
        "kpis": kpi_queries.kpis(cur, level, code, day, now, ("reported",)),
        "newest": queries.newest(cur, level, code, now),
    }
    for span in (dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(days=7), dt.timedelta(days=30)):
        since = now - span
        got["categories", span] = queries.category_counts(cur, level, code, since, now).sort_values("category")
        got["children", span] = queries.child_indicators(cur, level, code, since, now).sort_values("code")
        if level == "district":
            got["ranking", span] = queries.ranking(cur, level, code, "street", since, now)
    return got


def test_a_districts_reports_read_from_the_recent_table_equal_the_incidents(data, monkeypatch):
    """A district's week, newest reports, window counts and ranking come from ``recent_incidents`` (grid order)
    and equal the same reads of ``incidents``, before and after writes that move statuses and add reports."""
    with data.cursor() as cur:
        street = _units(cur)[2][1]
        area = read_area(cur)
        lon, lat = cur.execute("SELECT lon, lat FROM grids ORDER BY grid_code LIMIT 1").fetchone()
        assert queries.reports_table(cur, "district", DEMO_END - dt.timedelta(days=7)) == "recent_incidents"
        assert queries.reports_table(cur, "district", DEMO_END - dt.timedelta(days=30)) == "incidents"
        assert queries.reports_table(cur, "city", DEMO_END) == "incidents"

    def compare():
        for level, code in (("district", DISTRICT), ("street", street)):
            for now in CLOCKS[:3]:
                with data.cursor() as cur:
                    fast = _unit_reads(cur, level, code, now)
                    with monkeypatch.context() as patch:
                        for module in (queries, kpi_queries):
                            patch.setattr(module, "reports_table", lambda con, level, since: "incidents")
                        full = _unit_reads(cur, level, code, now)
                assert fast["kpis"] == full["kpis"] and fast["kpis"]["reported_week"] > 0, (level, now)
                for key in fast:
                    if key != "kpis":
                        pd.testing.assert_frame_equal(
                            fast[key].reset_index(drop=True),
                            full[key].reset_index(drop=True),
                            obj=str((level, now, key)),
                        )

    compare()
    with data.db.write() as cur:
        for seed in range(3):
            repository.advance_open_incidents(cur, 200, DEMO_END, "test", seed=seed)
        bump_data_version(cur, reference=False)
    for _ in range(3):
        intake.submit(data.db, area, {"service_code": "噪声扰民", "lat": lat, "long": lon}, DEMO_END, "k")
    compare()
