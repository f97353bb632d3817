"""Views shared between clients: one computation per (view, arguments, data version), never stale beyond a poll."""

from __future__ import annotations

import datetime as dt
import shutil
import threading

import numpy as np
import pandas as pd
import pytest
import shapely

from dashboard import duty_queries, kpi_queries, queries
from dashboard.components import whistle_ticker
from dashboard.data import DashboardData
from dashboard.models.shared import REFRESH_THREADS, Changes, SharedResults
from dashboard.views import command, leader
from geo.shapes import feature_collection, hexagons
from pipelines.area import read_area
from pipelines.incidents import governance, intake
from pipelines.store.governance import overdue_whistles
from pipelines.store.meta import bump_data_version
from tests.conftest import DEMO_END

CLIENTS = 5


class Clock:
    """The data's clock, moved by hand."""

    def __init__(self):
        self.now = DEMO_END

    def __call__(self) -> dt.datetime:
        return self.now


class Store:
    """What the store would say: the data and reference versions, and the incidents each data version moved."""

    def __init__(self):
        self.data, self.reference, self.event = 1, 1, 0
        self.moved: list[tuple[int, str]] = []  # (event id, unit of the incident)

    def write(self, *units, reference=False):
        for unit in units:
            self.event += 1
            self.moved.append((self.event, unit))
        self.data += 1
        self.reference += reference

    def changes(self, version=None) -> Changes:
        def since(event, limit):
            ids = [u for e, u in self.moved if e > event]
            return self.data, self.reference, self.event, ids if len(ids) <= limit else None

        return Changes(version or (lambda: self.data), since, lambda ids: {("city", None), *ids})


def _at_once(n: int, call) -> list:
    """``call()`` on ``n`` threads started together; their results in order."""
    out: list = [None] * n
    start = threading.Barrier(n)

    def run(k):
        start.wait()
        out[k] = call()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


def test_identical_concurrent_requests_compute_once():
    """The computation is held until every client has asked: without single flight each would compute."""
    asked, store = threading.Semaphore(0), Store()

    def current_version():
        asked.release()
        return store.data

    shared = SharedResults(store.changes(current_version), Clock())
    calls = []

    def compute():
        for _ in range(CLIENTS):  # every client has read the version, i.e. is inside get()
            assert asked.acquire(timeout=10)
        calls.append(1)
        return {"rows": [1, 2, 3]}

    results = _at_once(CLIENTS, lambda: shared.get("view", ("street", "s1"), compute))
    assert len(calls) == 1 and shared.computed == 1
    assert all(r is results[0] for r in results)


def test_a_new_version_or_one_poll_of_clock_recomputes():
    store, clock = Store(), Clock()
    shared = SharedResults(store.changes(), clock, max_age_s=1.5)
    count = iter(range(100))
    first = shared.get("view", "k", lambda: next(count))
    assert shared.get("view", "k", lambda: next(count)) == first  # same version, same poll: shared
    assert shared.get("view", "other", lambda: next(count)) != first  # other arguments: their own
    store.write()  # a write whose incidents are unknown: nothing carries over
    second = shared.get("view", "k", lambda: next(count))
    assert second != first
    clock.now += dt.timedelta(seconds=1.6)  # no write, but the clock moved by more than a poll
    assert shared.get("view", "k", lambda: next(count)) != second
    assert all(key[2] == store.data for key in shared._entries)  # the old version's entries are gone


def test_units_untouched_by_a_write_keep_their_results():
    store = Store()
    shared = SharedResults(store.changes(), Clock())
    count = iter(range(100))
    district_a, district_b = ("district", "A"), ("district", "B")
    a = shared.get("map", district_a, lambda: next(count), district_a)
    b = shared.get("map", district_b, lambda: next(count), district_b)
    city = shared.get("map", "city", lambda: next(count), ("city", None))
    anything = shared.get("poll", "x", lambda: next(count))  # no unit: it may read anything
    store.write(district_a)
    assert shared.get("map", district_b, lambda: next(count), district_b) == b  # carried over
    assert shared.get("map", district_a, lambda: next(count), district_a) != a
    assert shared.get("map", "city", lambda: next(count), ("city", None)) != city
    assert shared.get("poll", "x", lambda: next(count)) != anything
    b_now = shared.get("map", district_b, lambda: next(count), district_b)
    store.write(district_a, reference=True)  # reference data changed: nothing is kept
    assert shared.get("map", district_b, lambda: next(count), district_b) != b_now
    b_now = shared.get("map", district_b, lambda: next(count), district_b)
    store.write(*[district_a] * 600)  # too many to follow: nothing is kept
    assert shared.get("map", district_b, lambda: next(count), district_b) != b_now
    assert shared.carried == 1


def test_shared_results_a_write_touched_are_computed_ahead_of_their_clients():
    store = Store()
    shared = SharedResults(store.changes(), Clock())
    threads = []

    def compute():
        threads.append(threading.current_thread().name)
        return len(threads)

    city, district = ("city", None), ("district", "A")
    for _ in range(2):  # asked twice: shared
        shared.get("map", city, compute, city)
    shared.get("map", district, compute, district)  # asked once
    store.write(("district", "B"))
    shared.get("poll", "version", lambda: None)  # any request sees the new version
    assert shared.get("map", city, lambda: pytest.fail("computed by the client"), city) == 3
    assert threads[-1].startswith("gridtwin-refresh") and shared.refreshed == 1
    assert shared.get("map", district, compute, district) == 2  # untouched: carried over
    shared.close()


def test_a_failure_is_not_remembered():
    shared = SharedResults(Store().changes(), Clock())

    def broken():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        shared.get("view", "k", broken)
    assert shared.get("view", "k", lambda: "ok") == "ok"


def test_size_is_bounded():
    shared = SharedResults(Store().changes(), Clock(), size=3)
    for k in range(10):
        shared.get("view", k, lambda k=k: k)
    assert len(shared) == 3


@pytest.fixture
def data(fresh_data):
    """A copy of the demo of its own per test: these tests write."""
    return fresh_data


def _report_in(data, grid: str):
    """One Open311 report in ``grid`` through the intake's write path."""
    with data.cursor() as cur:
        area = read_area(cur)
        lon, lat = cur.execute("SELECT lon, lat FROM grids WHERE grid_code = ?", [grid]).fetchone()
        category = cur.execute("SELECT min(category) FROM categories").fetchone()[0]
    return intake.submit(data.db, area, {"service_code": category, "lat": lat, "long": lon}, DEMO_END, "test")[0]


def test_a_write_is_in_the_next_answer_and_concurrent_clients_share_one_build(data):
    grid = data.shapes.children("community", data.shapes.children("street", _street(data))["frame"]["code"].iloc[0])
    grid = grid["frame"]["code"].iloc[0]
    before = dict(data.shared.computed_by)
    sides = _at_once(CLIENTS, lambda: command.build_side(data, "grid", grid, "24h", (None, None), "zh"))
    built = {name: n - before.get(name, 0) for name, n in data.shared.computed_by.items()}
    assert built["command-side"] == 1 and built["unit-rows"] == 1 and all(s is sides[0] for s in sides)
    rows = leader.ranking_rows(data, "district", "330180", "street", "7d")
    assert leader.ranking_rows(data, "district", "330180", "street", "7d") is rows

    streets = data.shapes.children("district", "330180")["frame"]["code"].tolist()
    street = data.shapes.parent("community", data.shapes.parent("grid", grid)[1])[1]
    other = next(s for s in streets if s != street)
    other_side = command.build_side(data, "street", other, "24h", (None, None), "zh")
    own_side = command.build_side(data, "street", street, "24h", (None, None), "zh")

    incident_id = _report_in(data, grid)  # committed: the next poll sees the counter move

    assert command.build_side(data, "street", other, "24h", (None, None), "zh") is other_side  # untouched: kept
    assert command.build_side(data, "street", street, "24h", (None, None), "zh") is not own_side

    after = command.build_side(data, "grid", grid, "24h", (None, None), "zh")
    assert incident_id in str([c.to_plotly_json() for c in after[1]])  # the ticker's newest
    assert incident_id not in str([c.to_plotly_json() for c in sides[0][1]])
    new_rows = {r["code"]: r for r in leader.ranking_rows(data, "district", "330180", "street", "7d")}
    old_rows = {r["code"]: r for r in rows}
    assert new_rows[street]["incidents"] == old_rows[street]["incidents"] + 1


def test_the_map_each_client_gets_is_its_own_to_change(data):
    args = ("district", "330180", ["grids"], "window", "24h", (None, None), 9, "zh")
    fig = command.build_command_map(data, None, *args)
    command.with_view(fig, {"zoom": 15.5, "unit": ["district", "330180"]})
    command.scale_text(fig, 32)
    again = command.build_command_map(data, None, *args)
    assert again["layout"]["map"].get("zoom") != 15.5
    assert again["layout"].get("font", {}).get("size") != 32
    assert again["data"] is fig["data"]  # shared, not rebuilt


def _street(data) -> str:
    return data.shapes.children("district", "330180")["frame"]["code"].iloc[0]


def test_hexagons_kept_per_cell_equal_a_fresh_build(data):
    """The map's hexagon layer reuses each cell's outline: the same GeoJSON and centres as building them anew."""
    since, until = data.live.window_bounds("7d")
    first, _ = data.live.cells("district", "330180", 9, since, until)
    frame, geojson = data.live.cells("district", "330180", 9, since, until)  # now from the kept outlines
    by_cell = ["cell", "n", "id", "lon", "lat"]  # ties in the count come back in any order
    assert len(frame) > 10
    assert (
        frame[by_cell]
        .sort_values("cell", ignore_index=True)
        .equals(first[by_cell].sort_values("cell", ignore_index=True))
    )
    polys = hexagons(frame["cell"].to_numpy(np.uint64))
    assert geojson == feature_collection(frame["id"], polys)
    centres = shapely.centroid(polys)
    assert np.array_equal(frame["lon"], shapely.get_x(centres)) and np.array_equal(frame["lat"], shapely.get_y(centres))


def test_a_computation_queued_behind_the_background_threads_is_taken_over_by_a_request():
    """A write's refresh ahead waits in the background threads' queue while they are busy; the client that asks
    for it meanwhile computes it itself rather than waiting behind the queue."""
    store = Store()
    shared = SharedResults(store.changes(), Clock())
    count = iter(range(100))
    city = ("city", None)
    shared.get("map", "city", lambda: next(count), city)
    shared.get("map", "city", lambda: next(count), city)  # shared: refreshed ahead after a write
    busy = threading.Event()
    for _ in range(REFRESH_THREADS):
        shared._ahead.submit(busy.wait, 30)
    store.write(("district", "A"))  # touches the city: its refresh is queued behind the busy threads
    got = []
    asker = threading.Thread(target=lambda: got.append(shared.get("map", "city", lambda: next(count), city)))
    asker.start()
    asker.join(10)
    assert got == [1] and shared.refreshed == 1  # answered while the background threads were still busy
    busy.set()
    shared.close()
    assert shared.computed == 2  # the queued refresh, once its turn came, did not compute again


@pytest.mark.parametrize("level", ["street", "grid"])
def test_a_small_units_rows_serve_while_the_clock_moves_and_the_panels_follow_the_clock(demo_db, tmp_path, level):
    """A small unit's side panels at a moving clock read its rows once (per data version, within the margin) and
    still equal panels computed afresh at every clock: the window, overdue and trend move, the rows do not."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, path)
    clock = Clock()
    clock.now = DEMO_END - dt.timedelta(hours=6)
    data = DashboardData(path, clock=lambda: clock.now)
    fresh = DashboardData(path, clock=lambda: clock.now)  # the same file and clock, nothing shared
    fresh.shared.enabled = False
    try:
        with data.cursor() as cur:
            code = cur.execute(
                f"SELECT {level}_code FROM open_incidents GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
            ).fetchone()[0]
        reads = []
        unit_rows = data.live._unit_rows
        data.live._unit_rows = lambda *args: reads.append(args) or unit_rows(*args)
        steps = [dt.timedelta(minutes=m) for m in (0, 1, 7, 60, 250, 9)]  # 60 and 250 min: past the margin
        fetched = []
        for step in steps:
            clock.now += step
            since = clock.now - dt.timedelta(hours=24)
            got, want = data.live.side_panels(level, code, since), fresh.live.side_panels(level, code, since)
            assert got["kpis"] == pytest.approx(want["kpis"], nan_ok=True)
            for part in ("newest", "overdue", "categories", "trend", "affairs"):
                pd.testing.assert_frame_equal(got[part], want[part])
            fetched.append(len(reads))
        # one read for the first three clocks (8 minutes: within the 10-minute margin), one at each jump past it
        assert fetched == [1, 1, 1, 2, 3, 3]
    finally:
        data.close()
        fresh.close()


def test_a_view_built_from_shared_parts_reads_the_data_version_once(fresh_data):
    """A street's side panels are one shared result built from others (its rows, the affair classes, the
    waiting whistles): the parts are taken at the panels' version, so a refresh reads the version once."""
    data, reads = fresh_data, []
    version = data.shared._changes.version
    data.shared._changes.version = lambda: reads.append(1) or version()
    with data.cursor() as cur:
        street = cur.execute("SELECT street_code FROM grids ORDER BY grid_code LIMIT 1").fetchone()[0]
    command.build_side(data, "street", street, "24h", None, "zh")
    assert data.shared.computed_by["unit-rows"] == 1 and data.shared.computed_by["waiting-whistles"] == 1
    assert len(reads) == 1


def test_a_districts_open_incidents_per_affair_are_read_once_per_data_version(demo_db, tmp_path):
    """Open incidents per affair class do not move with the clock: while it runs the district's duty block is
    read once; a report in the district is in the next answer."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, path)
    clock = Clock()
    data = DashboardData(path, clock=lambda: clock.now)
    try:

        def affairs():
            block = command.build_side(data, "district", "330180", "24h", (None, None), "zh")[5]
            return str([c.to_plotly_json() for c in block])

        first = affairs()
        for _ in range(3):
            clock.now += dt.timedelta(seconds=2)  # past a poll: the side panels are computed again
            assert affairs() == first
        assert data.shared.computed_by["command-side"] == 4 and data.shared.computed_by["open-by-affair"] == 1
        grid = data.shapes.children("district", "330180")["frame"]["code"].iloc[0]
        grid = data.shapes.children("community", data.shapes.children("street", grid)["frame"]["code"].iloc[0])
        _report_in(data, grid["frame"]["code"].iloc[0])
        assert affairs() != first and data.shared.computed_by["open-by-affair"] == 2
    finally:
        data.close()


def test_the_trends_whole_hours_are_read_once_per_hour_and_version(demo_db, tmp_path):
    """The 24-hour trend keeps its 23 whole hours while the clock stays in an hour and no write touches the
    unit; each answer equals a full read at its clock, and a report in a whole hour is in the next one."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, path)
    clock = Clock()
    clock.now = DEMO_END + dt.timedelta(minutes=70)  # the demo's last report is in a whole hour of the trend
    data = DashboardData(path, clock=lambda: clock.now)
    try:

        def check():
            got = data.live.trend("district", "330180")
            with data.cursor() as cur:
                pd.testing.assert_frame_equal(got, kpi_queries.hourly_trend(cur, "district", "330180", clock.now))
            return got

        first = check()
        clock.now += dt.timedelta(minutes=5)
        check()
        assert data.shared.computed_by["trend-hours"] == 1
        grid = data.shapes.children("district", "330180")["frame"]["code"].iloc[0]
        grid = data.shapes.children("community", data.shapes.children("street", grid)["frame"]["code"].iloc[0])
        _report_in(data, grid["frame"]["code"].iloc[0])  # reported at the demo's end: a whole hour
        after = check()
        assert after["reported"].sum() == first["reported"].sum() + 1
        assert data.shared.computed_by["trend-hours"] == 2
        clock.now += dt.timedelta(minutes=60)  # the next hour: its whole hours are read again
        check()
        assert data.shared.computed_by["trend-hours"] == 3
    finally:
        data.close()


def test_a_write_is_applied_to_a_result_that_takes_a_patch():
    """A touched entry with a patch is patched with the moved incidents (those of every version since), not
    computed again; untouched ones carry over; a reference change, too many events or a failed patch compute."""
    store = Store()
    shared = SharedResults(store.changes(), Clock())
    a, b = ("district", "A"), ("district", "B")
    computed, patches = [], []

    def compute():
        computed.append(1)
        return ()

    def patch(old, ids):
        patches.append(list(ids))
        return (*old, *ids)

    def rows():
        return shared.get("rows", a, compute, a, patch=patch)

    assert rows() == ()
    store.write(a)
    assert rows() == (a,) and patches == [[a]]
    store.write(b)  # another unit: carried over as it is
    assert rows() == (a,) and len(patches) == 1
    store.write(a)
    store.write(a, b)  # two versions before the next request: one patch with the incidents of both
    assert rows() == (a, a, a, b) and patches[-1] == [a, a, b]
    assert len(computed) == 1 and shared.computed == 1 and shared.patched_by["rows"] == 2
    store.write(a, reference=True)  # reference data changed: computed again
    assert rows() == () and len(computed) == 2
    store.write(*[a] * 600)  # too many to follow: computed again
    assert rows() == () and len(computed) == 3

    def broken(old, ids):
        raise RuntimeError("boom")

    shared.get("other", a, lambda: "whole", a, patch=broken)
    store.write(a)
    with pytest.raises(RuntimeError):
        shared.get("other", a, lambda: "whole", a, patch=broken)
    assert shared.get("other", a, lambda: "whole", a, patch=broken) == "whole"  # the failure is not kept


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


@pytest.mark.parametrize("level", ["street", "grid"])
def test_writes_applied_to_a_small_units_rows_equal_a_fresh_fetch(fresh_data, level):
    """A report, a resolution, a reopening and a whistle in a unit are applied to its kept rows and to the
    city's waiting whistles: each equals a fresh read, and neither is fetched whole again."""
    data = fresh_data
    with data.cursor() as cur:
        grid = cur.execute(
            "SELECT grid_code FROM open_incidents WHERE status = 'in_progress' GROUP BY 1 ORDER BY count(*) DESC"
            " LIMIT 1"
        ).fetchone()[0]
        code = cur.execute(f"SELECT {level}_code FROM grids WHERE grid_code = ?", [grid]).fetchone()[0]
        week = DEMO_END - dt.timedelta(days=7)
        working, reopened, whistled = (
            cur.execute(
                f"SELECT min(incident_id) FROM incidents WHERE grid_code = ? AND status = ? {extra}", [grid, status]
            ).fetchone()[0]
            for status, extra in (
                ("in_progress", ""),
                ("evaluated", f"AND resolved_at >= '{week}'"),
                ("accepted", ""),
            )
        )
    assert working and reopened and whistled
    now = DEMO_END
    kept = data.live.unit_rows(level, code, now)
    whistle_ticker.overdue_for(data, level, code, now)
    writes = [
        lambda: _report_in(data, grid),
        lambda: intake.act(data.db, working, "resolve", {"note": "已处理"}, now, "tester"),
        lambda: intake.act(data.db, reopened, "reopen", {"note": "居民不满意"}, now, "tester"),
        lambda: governance.escalate(data.db, whistled, {"departments": ["城管执法"], "reason": "占道"}, now, "t"),
    ]
    for write in writes:
        write()
        rows, fresh = data.live.unit_rows(level, code, now), data.live._unit_rows(level, code, now)
        assert (rows.start, rows.end) == (fresh.start, fresh.end)
        for part in ("reported", "resolved", "open"):
            pd.testing.assert_frame_equal(_sorted(getattr(rows, part)), _sorted(getattr(fresh, part)))
        waiting = whistle_ticker.overdue_for(data, level, code, now + dt.timedelta(days=3))
        with data.cursor() as cur:
            want = overdue_whistles(
                cur, now + dt.timedelta(days=3), whistle_ticker.TICKER_WHISTLES, f"{level}_code", code
            )
        pd.testing.assert_frame_equal(waiting, want)
    assert rows is not kept and len(rows.open) != len(kept.open)
    assert data.shared.computed_by["unit-rows"] == 1 and data.shared.computed_by["waiting-whistles"] == 1
    assert data.shared.patched_by["unit-rows"] == data.shared.patched_by["waiting-whistles"] == len(writes)


def test_the_most_overdue_are_cut_from_the_earliest_deadlines_read_once_per_version(fresh_data):
    """A city's or district's most overdue list equals the SQL at every clock while the earliest deadlines are read
    once; resolving one of them is in the next answer."""
    data = fresh_data

    def check(level, code):
        with data.cursor() as cur:
            third = queries.first_due(cur, level, code)["due_at"].iloc[2]  # at it, two are overdue
        for at in [third, *(DEMO_END + dt.timedelta(hours=h) for h in (-72, -5, 0, 24, 24 * 30))]:
            with data.cursor() as cur:
                want = queries.most_overdue(cur, level, code, at)
            pd.testing.assert_frame_equal(data.live.most_overdue(level, code, at), want)
            assert len(want) == 2 or at != third

    for level, code in (("city", None), ("district", "330180")):
        check(level, code)
    assert data.shared.computed_by["first-due"] == 2
    shown = data.live.most_overdue("district", "330180", DEMO_END)
    working = shown.loc[shown["status"] == "in_progress", "incident_id"].iloc[0]
    intake.act(data.db, working, "resolve", {"note": "已处理"}, DEMO_END, "tester")
    check("district", "330180")
    assert working not in set(data.live.most_overdue("district", "330180", DEMO_END)["incident_id"])
    assert data.shared.computed_by["first-due"] <= 4  # the write's version: each unit once (or ahead of the ask)


def test_reference_values_in_a_shared_result_take_its_reference_version_without_a_read(fresh_data):
    """Inside a shared result the reference version is the one read with its data version: no read of its own;
    a load of reference data is still in the next answer."""
    data, reads = fresh_data, []
    run = data.run
    data.run = lambda query, *a, **k: reads.append(query) or run(query, *a, **k)
    unit = ("district", "330180")

    def on_duty(key):
        return data.shared.get("duty", key, lambda: data.live.on_duty(*unit))

    before = on_duty(1)
    assert on_duty(2) == before and queries.reference_version not in reads and data.live._reference.built == 1
    with data.db.write() as cur:  # a load of grid workers moves the reference counter (and the data version)
        cur.execute(
            "DELETE FROM grid_workers WHERE grid_code IN (SELECT grid_code FROM grids WHERE district_code = ?)"
            " AND rowid % 2 = 0",
            [unit[1]],
        )
        bump_data_version(cur)
        want = duty_queries.workers_on_duty(cur, *unit)
    assert on_duty(3) == want != before and queries.reference_version not in reads
    assert data.live.on_duty(*unit) == want and queries.reference_version in reads  # outside one: read


@pytest.mark.parametrize("unit", [("city", None), ("district", "330180")])
def test_the_newest_and_the_running_hour_are_cut_from_rows_read_once(demo_db, tmp_path, unit):
    """The ticker's newest reports and the trend's running hour come from rows read once per data version (the
    newest at the read, and every report after it within the margin): equal to the SQL at every clock, also when a
    report is dated ahead of the clock (it appears once the clock passes it)."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, path)
    clock = Clock()
    clock.now = DEMO_END + dt.timedelta(minutes=10)
    data = DashboardData(path, clock=lambda: clock.now)
    try:
        grid = data.shapes.children("district", "330180")["frame"]["code"].iloc[0]
        grid = data.shapes.children("community", data.shapes.children("street", grid)["frame"]["code"].iloc[0])
        grid = grid["frame"]["code"].iloc[0]
        with data.cursor() as cur:
            area = read_area(cur)
            lon, lat = cur.execute("SELECT lon, lat FROM grids WHERE grid_code = ?", [grid]).fetchone()
        ahead = clock.now + dt.timedelta(minutes=4)  # a report dated ahead of the clock, written before the reads
        incident = intake.submit(data.db, area, {"service_code": "噪声扰民", "lat": lat, "long": lon}, ahead, "t")[0]
        seen = []
        for minutes in (0, 1, 3, 5, 9):
            now = DEMO_END + dt.timedelta(minutes=10 + minutes)
            clock.now = now
            with data.cursor() as cur:
                want_newest = queries.newest(cur, *unit, now)
                want_trend = kpi_queries.hourly_trend(cur, *unit, now)
            got = data.live.newest(*unit, now)
            pd.testing.assert_frame_equal(got, want_newest)
            pd.testing.assert_frame_equal(data.live.trend(*unit, now), want_trend)
            seen.append(incident in set(got["incident_id"]))
        assert seen == [False, False, False, True, True]
        assert data.shared.computed_by["newest-rows"] == 1 and data.shared.computed_by["trend-running"] == 1
    finally:
        data.close()
