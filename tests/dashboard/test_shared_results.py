"""Views shared between clients: one computation per (view, arguments, data version), never stale beyond a poll."""

from __future__ import annotations

import shutil
import threading

import numpy as np
import pytest
import shapely

from dashboard.data import DashboardData
from dashboard.models.shared import SharedResults
from dashboard.views import command, leader
from geo.shapes import feature_collection, hexagons
from pipelines.area import read_area
from pipelines.incidents import intake
from tests.conftest import DEMO_END

CLIENTS = 5


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


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
    asked, version = threading.Semaphore(0), [7]

    def current_version():
        asked.release()
        return version[0]

    shared = SharedResults(current_version, monotonic=Clock())
    calls = []

    def compute():
        for _ in range(CLIENTS):  # every client has read the version, i.e. is inside get()
            assert asked.acquire(timeout=10)
        calls.append(1)
        return {"rows": [1, 2, 3]}

    results = _at_once(CLIENTS, lambda: shared.get("view", ("street", "s1"), compute))
    assert len(calls) == 1 and shared.computed == 1
    assert all(r is results[0] for r in results)


def test_a_new_version_or_one_poll_of_age_recomputes():
    version, clock = [1], Clock()
    shared = SharedResults(lambda: version[0], max_age_s=1.5, monotonic=clock)
    count = iter(range(100))
    first = shared.get("view", "k", lambda: next(count))
    assert shared.get("view", "k", lambda: next(count)) == first  # same version, same poll: shared
    assert shared.get("view", "other", lambda: next(count)) != first  # other arguments: their own
    version[0] = 2
    second = shared.get("view", "k", lambda: next(count))
    assert second != first
    clock.now += 1.6  # no write, but the clock moved by more than a poll (overdue counts, "just in")
    assert shared.get("view", "k", lambda: next(count)) != second
    assert all(key[2] == 2 for key in shared._entries)  # the old version's entries are gone


def test_a_failure_is_not_remembered():
    shared = SharedResults(lambda: 1, monotonic=Clock())

    def broken():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        shared.get("view", "k", broken)
    assert shared.get("view", "k", lambda: "ok") == "ok"


def test_size_is_bounded():
    shared = SharedResults(lambda: 1, size=3, monotonic=Clock())
    for k in range(10):
        shared.get("view", k, lambda k=k: k)
    assert len(shared) == 3


@pytest.fixture
def data(demo_db, tmp_path):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, path)
    view = DashboardData(path, clock=lambda: DEMO_END)
    yield view
    view.close()


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
    before = data.shared.computed
    sides = _at_once(CLIENTS, lambda: command.build_side(data, "grid", grid, "24h", (None, None), "zh"))
    assert data.shared.computed == before + 1 and all(s is sides[0] for s in sides)
    rows = leader.ranking_rows(data, "district", "330180", "street", "7d")
    assert leader.ranking_rows(data, "district", "330180", "street", "7d") is rows

    incident_id = _report_in(data, grid)  # committed: the next poll sees the counter move

    after = command.build_side(data, "grid", grid, "24h", (None, None), "zh")
    assert incident_id in str([c.to_plotly_json() for c in after[1]])  # the ticker's newest
    assert incident_id not in str([c.to_plotly_json() for c in sides[0][1]])
    street = data.shapes.parent("community", data.shapes.parent("grid", grid)[1])[1]
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
    assert len(frame) > 10 and frame.equals(first)
    polys = hexagons(frame["cell"].to_numpy(np.uint64))
    assert geojson == feature_collection(frame["id"], polys)
    centres = shapely.centroid(polys)
    assert np.array_equal(frame["lon"], shapely.get_x(centres)) and np.array_equal(frame["lat"], shapely.get_y(centres))
