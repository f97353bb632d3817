"""Background jobs: progress, results, cancel, a stop when abandoned; suggested sites street by street."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest

from dashboard.models import jobs
from dashboard.views import coverage


def _wait(pool: jobs.Jobs, job_id: str, state: str, timeout_s: float = 10.0) -> dict:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        status = pool.status(job_id)
        if status["state"] == state:
            return status
        time.sleep(0.02)
    raise AssertionError(f"{job_id} never reached {state}: {pool.status(job_id)}")


def test_a_job_reports_progress_and_its_result():
    pool = jobs.Jobs()
    gate = threading.Event()

    def work(step):
        step(1, 3)
        gate.wait(5)
        step(3, 3)
        return "sites"

    job_id = pool.start(work)
    time.sleep(0.1)
    running = pool.status(job_id)
    assert running["state"] == "running" and (running["done"], running["total"]) == (1, 3)
    gate.set()
    assert _wait(pool, job_id, "done")["result"] == "sites"
    assert pool.status("no-such-job") is None and pool.status(None) is None


def test_cancel_and_abandon_stop_the_work_at_its_next_step(monkeypatch):
    pool = jobs.Jobs()
    steps = []

    def endless(step):
        for i in range(10_000):
            steps.append(i)
            step(i, 10_000)
            time.sleep(0.01)

    job_id = pool.start(endless)
    time.sleep(0.1)
    pool.cancel(job_id)
    _wait(pool, job_id, "cancelled")
    stopped_at = len(steps)
    time.sleep(0.1)
    assert len(steps) == stopped_at < 100 and pool.running() == 0

    monkeypatch.setattr(jobs, "ABANDON_S", 0.2)
    job_id = pool.start(endless)  # nobody polls it
    time.sleep(0.6)
    assert pool.running() == 0
    assert pool.status(job_id)["state"] == "cancelled"


def test_a_failing_job_reports_its_error():
    pool = jobs.Jobs()
    job_id = pool.start(lambda step: 1 / 0)
    assert "division by zero" in _wait(pool, job_id, "failed")["error"]


def test_district_suggestion_runs_street_by_street_and_ranks_the_best(data):
    seen = []
    sites = data.planner.suggest_sites(
        "幼儿园", "district", "330180", 3, lambda done, total: seen.append((done, total))
    )
    streets = data.shapes.children("district", "330180")["frame"]
    assert seen[0] == (0, len(streets)) and seen[-1] == (len(streets), len(streets))
    assert len(sites) == 3 and list(sites["rank"]) == [1, 2, 3]
    assert (np.diff(sites["gain"]) <= 0).all() and sites["cumulative"].iloc[-1] == sites["gain"].sum()
    one_street = data.planner.suggest_sites("幼儿园", "street", streets["code"].iloc[0], 1)
    assert sites["gain"].iloc[0] >= one_street["gain"].iloc[0]


def test_suggestion_job_through_the_view(data):
    job_id = coverage.start_suggestion(
        data, "幼儿园", "street", data.shapes.children("district", "330180")["frame"]["code"].iloc[0], 2
    )
    end = time.monotonic() + 20
    while time.monotonic() < end:
        text, rows, polling = coverage.suggestion_progress(data, job_id, "zh")
        if not polling:
            break
        assert text.startswith("推荐选址计算中")
        time.sleep(0.05)
    assert rows is not None and len(rows) == 2 and text == ""
    data.planner.jobs.cancel(job_id)  # cancelling a finished job changes nothing
    assert coverage.suggestion_progress(data, job_id, "zh")[1] == rows


@pytest.mark.parametrize("count", [10, 2000])
def test_many_facilities_become_a_density_layer(count):
    import pandas as pd

    from dashboard import coverage_figures

    facilities = pd.DataFrame({"facility_id": [f"f{i}" for i in range(count)], "name": "站", "lon": 120.0, "lat": 30.0})
    children = {"centre": {"lon": 120.0, "lat": 30.0}, "zoom": 12}
    fig = coverage_figures.coverage_map(
        lang="zh", children=children, cells=None, speed_m_per_min=60, tier_minutes=15, facilities=facilities,
        uncovered=None, area=None, what_if=None, sites=None, outline_layers=[], roads=None, tile_url=None,
        uirevision="x",
    )  # fmt: skip
    kinds = {trace["type"] for trace in fig["data"]}
    assert kinds == ({"densitymap"} if count > coverage_figures.FACILITY_DOTS else {"scattermap"})


def test_facility_tile_counts_every_facility_not_the_map_cap(data, monkeypatch):
    from dashboard.models import shapes

    monkeypatch.setattr(shapes, "MAX_FACILITIES", 2)  # the map draws at most 2
    _, tiles, *_ = coverage.build_view(data, None, "district", "330180", "幼儿园", None, None, "zh")
    with data.cursor() as cur:
        (count,) = cur.execute("SELECT count(*) FROM facilities WHERE type = '幼儿园'").fetchone()
    assert count > 2 and tiles[3].children[1].children[0] == f"{count:,}"


@pytest.mark.parametrize(("level", "code"), [("city", None), ("district", "330180"), ("street", None), ("grid", None)])
def test_areas_summed_from_grids_match_the_direct_query(data, level, code):
    from dashboard.queries import CHILD
    from pipelines.store.coverage import coverage_by_area

    if level in ("street", "grid"):
        with data.cursor() as cur:
            column = f"{level}_code"
            code = cur.execute(f"SELECT min({column}) FROM grids").fetchone()[0]
    child = CHILD[level] if level != "grid" else "grid"
    summed, summed_types = data.planner.areas(level, code)
    with data.cursor() as cur:
        direct, direct_types = coverage_by_area(cur, child, None if level == "city" else (level, code))
    columns = ["code", "name", "residents", "buildings", "types_in_reach", "required_types", "complete_share"]
    pd.testing.assert_frame_equal(summed[columns], direct[columns], check_dtype=False, atol=1e-9)
    cols = ["code", "type", "covered", "residents", "share"]
    pd.testing.assert_frame_equal(summed_types[cols], direct_types[cols], check_dtype=False, atol=1e-9)
