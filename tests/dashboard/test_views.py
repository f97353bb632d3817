"""Dashboard view models against independent computations on the demo city."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from dashboard import duty_queries, figures, queries
from dashboard.components import urls
from dashboard.i18n import CATEGORY_EN
from dashboard.models import hex_resolution, unit_rows
from dashboard.views import command
from pipelines.masking import mask_name, mask_phone
from tests.conftest import DEMO_END

NOW = DEMO_END


@pytest.fixture(scope="module")
def incidents(data) -> pd.DataFrame:
    with data.cursor() as cur:
        return cur.execute("SELECT * FROM incidents").df()


def test_home_is_the_single_demo_district_and_breadcrumb_walks_down(data):
    assert data.shapes.home() == ("district", "330180")
    with data.cursor() as cur:
        grid = cur.execute("SELECT grid_code, name, community_name FROM grids ORDER BY grid_code LIMIT 1").fetchone()
    trail = data.shapes.breadcrumb("grid", grid[0])
    assert [level for level, _, _ in trail] == ["district", "street", "community", "grid"]
    assert trail[-1][2] == grid[1] and trail[-2][2] == grid[2]


def test_kpis_match_pandas(data, incidents):
    day = NOW.replace(hour=0, minute=0)
    week = NOW - dt.timedelta(days=7)
    values = data.live.kpis("district", "330180")
    reported = incidents["reported_at"]
    assert values["reported_today"] == ((reported >= day) & (reported <= NOW)).sum()
    resolved = incidents["resolved_at"]
    assert values["resolved_today"] == ((resolved >= day) & (resolved <= NOW)).sum()
    open_ = incidents["status"].isin(["reported", "accepted", "dispatched", "in_progress"])
    assert values["overdue"] == (open_ & (incidents["due_at"] < NOW)).sum()
    in_week = (reported >= week) & (reported <= NOW)
    closed = incidents["status"].isin(["resolved", "evaluated"])
    assert values["closure_rate"] == pytest.approx(100 * (in_week & closed).sum() / in_week.sum())
    recent = (resolved >= week) & (resolved <= NOW)
    hours = (resolved - reported).dt.total_seconds() / 3600
    assert values["handling_h"] == pytest.approx(hours[recent].mean())
    evaluated = recent & (incidents["status"] == "evaluated")
    assert values["satisfaction"] == pytest.approx(incidents.loc[evaluated, "satisfaction"].astype(float).mean())


def test_open_incidents_table_matches_the_history(data, incidents):
    with data.cursor() as cur:
        table = cur.execute("SELECT incident_id, status, due_at, street_code FROM open_incidents").df()
    open_ = incidents[incidents["status"].isin(["reported", "accepted", "dispatched", "in_progress"])]
    assert sorted(table["incident_id"]) == sorted(open_["incident_id"])
    merged = table.merge(open_, on="incident_id", suffixes=("", "_i"))
    assert (merged["status"] == merged["status_i"]).all() and (merged["street_code"] == merged["street_code_i"]).all()


def test_street_indicators_add_up_to_the_district(data, incidents):
    since = NOW - dt.timedelta(days=7)
    frame = data.live.indicators("district", "330180", since)
    assert len(frame) == 5
    in_window = (incidents["reported_at"] >= since).sum()
    assert frame["window_count"].sum() == in_window
    per_street = incidents[incidents["reported_at"] >= since].groupby("street_code").size()
    got = frame.set_index("code")["window_count"]
    assert (got.reindex(per_street.index) == per_street).all()
    expected = (1000 * frame["window_count"] / frame["population"]).round(2)
    assert np.allclose(frame["per_1000"], expected)


def test_ranking_matches_indicators_and_covers_every_community(data):
    since = NOW - dt.timedelta(days=7)
    streets = data.live.ranking("district", "330180", "street", since)
    indicators = data.live.indicators("district", "330180", since).set_index("code")
    assert (streets.set_index("code")["incidents"] == indicators["window_count"].reindex(streets["code"])).all()
    assert list(streets["per_1000"]) == sorted(streets["per_1000"], reverse=True)
    # a ranking of communities asked for at grid level climbs to the grid's street
    with data.cursor() as cur:
        grid, n = cur.execute(
            "SELECT g.grid_code, (SELECT count(*) FROM communities c WHERE c.street_code = g.street_code)"
            " FROM grids g ORDER BY g.grid_code LIMIT 1"
        ).fetchone()
    assert len(data.live.ranking("grid", grid, "community", since)) == n


def test_hexagon_counts_sum_to_the_window_and_keep_64_bit_cells(data, incidents):
    since = NOW - dt.timedelta(hours=24)
    frame, geojson = data.live.cells("district", "330180", 9, since, NOW)
    window = ((incidents["reported_at"] >= since) & (incidents["reported_at"] < NOW)).sum()
    assert frame["n"].sum() == window
    assert frame["cell"].dtype == np.uint64
    assert len(geojson["features"]) == len(frame)


@pytest.mark.parametrize("level", ["city", "district", "street", "community", "grid"])
def test_every_map_level_builds_a_small_json_figure(data, level):
    with data.cursor() as cur:
        codes = cur.execute(
            "SELECT district_code, street_code, community_code, grid_code FROM grids ORDER BY grid_code LIMIT 1"
        ).fetchone()
    code = None if level == "city" else codes[["district", "street", "community", "grid"].index(level)]
    fig = command.build_command_map(
        data, None, level, code, list(urls.ALL_LAYERS), "window", "7d", (None, None), 9, "zh"
    )
    assert len(json.dumps(fig)) < 2 * 2**20
    assert fig["data"], "something is drawn"
    style = fig["layout"]["map"]["style"]
    assert "glyphs" not in style and "sprite" not in style  # offline: names are drawn with the page's fonts
    assert all(source["type"] == "geojson" for source in style["sources"].values())  # no tile or glyph URL
    assert {"gt-ground", "gt-labels"} <= {layer["id"] for layer in style["layers"]}
    ground = [layer for layer in style["layers"] if layer["type"] == "background"]
    assert ground and ground[0]["paint"]["background-color"] == figures.BG  # a dark ground, never white
    units = [trace for trace in fig["data"] if trace.get("name") == "units"]
    assert units and len(units[0]["locations"]) == len(data.shapes.children(level, code)["frame"])


def test_hex_resolution_follows_zoom():
    resolutions = [hex_resolution(z) for z in range(8, 19)]
    assert resolutions == sorted(resolutions)
    assert min(resolutions) >= 6 and max(resolutions) <= 11


def test_query_state_round_trips_and_rejects_junk():
    state = urls.parse_query("?level=street&code=330180001&window=7d&layers=heat,roads&lang=en&screen=wall")
    assert state["layers"] == ["heat", "roads"] and state["window"] == "7d" and state["lang"] == "en"
    assert urls.parse_query(urls.build_query(state)) == state
    junk = urls.parse_query("?window=forever&ind=<script>&layers=bogus&lang=fr")
    assert junk["window"] == "24h" and junk["ind"] == "window" and junk["layers"] == [] and junk["lang"] == "zh"


def test_personal_data_is_masked():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone(None) == ""
    assert mask_phone("02112345") == "****2345"
    assert mask_name("王小明") == "王**"


def test_wall_tour_visits_every_street_in_turn(data):
    streets = data.shapes.children("district", "330180")["frame"]["code"].tolist()
    stop = command.next_tour_stop(data, "district", "330180")
    seen = []
    for _ in streets:
        seen.append(stop["code"])
        stop = command.next_tour_stop(data, stop["level"], stop["code"])
    assert seen == streets and stop["code"] == streets[0]


@pytest.mark.parametrize("level", ["street", "community", "grid"])
@pytest.mark.parametrize("window", ["1h", "24h", "7d"])
def test_small_unit_panels_equal_the_sql_panels(data, level, window):
    """Streets, communities and grids aggregate their week in memory: the numbers must match the SQL path."""
    with data.cursor() as cur:
        code = cur.execute(
            f"SELECT {level}_code FROM incidents WHERE reported_at >= ? GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
            [NOW - dt.timedelta(days=1)],
        ).fetchone()[0]
    since, _ = data.live.window_bounds(window)
    panels = data.live.side_panels(level, code, since)
    assert panels["kpis"] == pytest.approx(data.live.kpis(level, code), nan_ok=True)
    newest, overdue = data.live.ticker(level, code)
    pd.testing.assert_frame_equal(
        panels["newest"].reset_index(drop=True), newest.reset_index(drop=True), check_dtype=False
    )
    pd.testing.assert_frame_equal(panels["overdue"], overdue, check_dtype=False)
    expected = data.live.categories(level, code, since).sort_values(
        ["n", "category"], ascending=False, ignore_index=True
    )
    got = panels["categories"].sort_values(["n", "category"], ascending=False, ignore_index=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    trend = data.live.trend(level, code)
    np.testing.assert_array_equal(panels["trend"]["reported"].to_numpy(), trend["reported"].to_numpy())
    np.testing.assert_array_equal(panels["trend"]["resolved"].to_numpy(), trend["resolved"].to_numpy())
    assert (pd.to_datetime(panels["trend"]["hour"]).to_numpy() == pd.to_datetime(trend["hour"]).to_numpy()).all()
    with data.cursor() as cur:  # 公事/家事/共事: counted from the same fetch of open incidents
        pd.testing.assert_frame_equal(
            panels["affairs"], duty_queries.open_by_affair(cur, level, code), check_dtype=False
        )
    if level == "grid":  # the detail panel's open incidents come from the same fetch as the overdue count
        grid, workers, incidents = panels["grid"]
        sql_grid, sql_workers, sql_incidents = data.live.grid_detail(code)
        pd.testing.assert_frame_equal(grid, sql_grid, check_dtype=False)
        pd.testing.assert_frame_equal(workers, sql_workers)
        key = ["due_at", "incident_id"]
        pd.testing.assert_frame_equal(
            incidents.sort_values(key, ignore_index=True),
            sql_incidents.sort_values(key, ignore_index=True),
            check_dtype=False,
        )


def test_english_mode_translates_categories(data):
    panels = command.build_side(data, "district", "330180", "7d", (None, None), "en")
    chart = panels[2]["data"][0]["y"]
    assert "Noise" in chart and not any("噪声" in c for c in chart)
    shown = [
        span.children
        for block in panels[1]
        if getattr(block, "id", None) in ("command-ticker-newest", "command-ticker-overdue")
        for item in block.children
        for span in item.children
        if span is not None and getattr(span, "className", "") == "gt-tick-cat"
    ]
    assert shown and all(c in CATEGORY_EN.values() for c in shown)


def test_affair_counts_of_fetched_incidents_follow_the_sql_rules():
    """A category outside ``categories`` or missing counts under '' (the SQL's LEFT JOIN and coalesce)."""
    got = duty_queries.affair_counts(pd.Series(["a", "b", None, "zz", "a"]), {"a": "公事", "b": "家事"})
    assert list(zip(got["affair_class"], got["n"], strict=True)) == [("", 2), ("公事", 2), ("家事", 1)]
    assert duty_queries.affair_counts(pd.Series([], dtype=object), {}).empty


@pytest.mark.parametrize("k", [1, 3, 8, 50])
def test_first_rows_equal_a_sort_with_ties_and_empty_times(k):
    """``unit_rows.first_rows`` (numpy partition, a few rows sorted) must pick and order like sort_values + head."""
    rng = np.random.default_rng(k)
    times = pd.Timestamp("2026-12-01") + pd.to_timedelta(rng.integers(0, 20, 40), unit="h")  # many ties
    frame = pd.DataFrame({"incident_id": [f"I{i:03d}" for i in rng.permutation(40)], "due_at": times})
    frame.loc[[2, 5, 11], "due_at"] = pd.NaT
    for latest in (False, True):
        expected = frame.sort_values(["due_at", "incident_id"], ascending=not latest).head(k).reset_index(drop=True)
        pd.testing.assert_frame_equal(unit_rows.first_rows(frame, "due_at", k, latest=latest), expected)


@pytest.mark.parametrize("level", ["street", "community"])
@pytest.mark.parametrize("window", ["1h", "24h", "7d"])
def test_child_counts_from_a_units_rows_equal_the_sql(data, level, window):
    """A street's or community's map colours its children from the unit's shared rows: the same counts as SQL."""
    with data.cursor() as cur:
        code = cur.execute(
            f"SELECT {level}_code FROM open_incidents GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
    since, now = data.live.window_bounds(window)
    got = data.live.indicators(level, code, since)
    with data.cursor() as cur:
        sql = queries.child_indicators(cur, level, code, since, now)
    children = data.shapes.children(level, code)["frame"][["code"]]
    want = children.merge(sql, on="code", how="left").fillna(0)
    assert got["window_count"].sum() > 0 and got["open_count"].sum() > 0
    for column in ("window_count", "open_count", "overdue_count"):
        assert got[column].tolist() == want[column].astype(int).tolist(), column
