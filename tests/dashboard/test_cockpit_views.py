"""The cockpit's view model on the demo city: parts, drill-down target, 周报 workbook, whistle ticker."""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace

import numpy as np
import openpyxl
import pandas as pd

from dashboard.components.whistle_ticker import overdue_for, whistle_list
from dashboard.views import cockpit, leader
from pipelines.incidents import governance
from pipelines.store.governance import overdue_whistles
from pipelines.store.loop_indicators import INDICATORS


def test_the_cockpit_has_every_part_non_empty(data):
    level, code = data.shapes.home()
    kpis, bars, shaded, boards, departments, trend = leader.cockpit_parts(
        data, level, code, "rework_rate", "7d", "zh", SimpleNamespace(tile_url=None)
    )
    assert len(kpis) == len(INDICATORS)
    assert [t["name"] for t in bars["data"]] == ["本期", "上期(环比)"] and len(bars["data"][0]["x"]) == 5
    values = bars["data"][0]["y"]
    assert values == sorted(values)  # 返工率: lower is better, best first
    assert shaded["data"][0]["type"] == "choroplethmap" and len(shaded["data"][0]["locations"]) == 5
    assert departments["data"][0]["y"] and trend["data"][0]["x"]
    assert len(boards) == 2


def test_a_click_drills_one_level_down_and_stops_at_the_grid(data):
    click = {"points": [{"customdata": ["330180001"]}]}
    assert leader.drill_target(click, "district", "330180") == {"level": "street", "code": "330180001"}
    assert leader.drill_target(click, "grid", "G") is None and leader.drill_target(None, "street", "S") is None


def test_the_weekly_report_is_a_workbook_with_charts(data):
    level, code = data.shapes.home()
    content, name = leader.weekly_report(data, level, code, "closure_rate", "7d", "zh")
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert name.endswith(".xlsx") and book.sheetnames == ["概览", "排名", "部门", "趋势"]
    assert book["概览"]["B3"].value == "本期" and book["概览"]["A4"].value == "结案率"
    assert len(book["排名"]._charts) == 1 and len(book["部门"]._charts) == 1 and len(book["趋势"]._charts) == 1
    assert book["排名"].max_row == 6  # header + five streets


def test_red_and_black_boards_do_not_share_a_unit(data):
    model = cockpit.cockpit(data, *data.shapes.home(), "30d")
    red, black = cockpit.boards(model["children"], "closure_rate")
    assert set(red["code"]).isdisjoint(black["code"])
    assert red["closure_rate"].min() >= black["closure_rate"].max()


def test_overdue_whistles_reach_the_ticker(data):
    now = data.clock()
    frame = overdue_for(data, *data.shapes.home(), now)
    assert len(frame) > 0 and (frame["late_since"] < now).all()
    heading, items = whistle_list(frame, now, "zh")
    assert heading.children == "吹哨超时" and len(items.children) == len(frame)


def test_the_ticker_cuts_the_waiting_whistles_as_the_sql_would(fresh_data):
    """The ticker's overdue whistles come from the waiting ones kept in memory: the same rows, in the same order,
    as ``overdue_whistles`` reads from the table, for every level, before and after the deadlines; a whistle
    blown or answered is in the next answer."""
    data, now = fresh_data, fresh_data.clock()
    with data.cursor() as cur:
        open_ids = cur.execute("SELECT incident_id FROM open_incidents ORDER BY incident_id LIMIT 3").fetchall()
    with data.cursor() as cur:
        first = cur.execute("SELECT * FROM incidents WHERE incident_id = ?", [open_ids[0][0]]).df().iloc[0]
    before = overdue_for(data, "grid", first["grid_code"], now + dt.timedelta(hours=1.5))  # read, kept
    blown = []
    for k, (incident_id,) in enumerate(open_ids):
        body = {"departments": ["城管执法", "市政养护"], "reason": "久拖未决", "report_within_h": 1 + k}
        blown.append([w["whistle_id"] for w in governance.escalate(data.db, incident_id, body, now, "tester")])
    governance.whistle_step(data.db, blown[0][0], "report", {"note": "已到场"}, now, "tester")
    units = [("city", None)] + [
        (level, first[f"{level}_code"]) for level in ("district", "street", "community", "grid")
    ]
    seen = 0
    for hours in (0, 1.5, 2.5, 24 * 30):
        at = now + dt.timedelta(hours=hours)
        for level, code in units:
            with data.cursor() as cur:
                expected = overdue_whistles(cur, at, 6, None if level == "city" else f"{level}_code", code)
            got = overdue_for(data, level, code, at)
            pd.testing.assert_frame_equal(got, expected, check_dtype=False)
            seen += len(got)
    late = set(overdue_for(data, "grid", first["grid_code"], now + dt.timedelta(hours=1.5))["whistle_id"])
    assert blown[0][1] in late - set(before["whistle_id"])  # blown after the last read: in the next answer
    assert blown[0][0] not in late  # reported, and not yet late to resolve
    assert seen > 0


def test_departments_without_ratings_have_no_empty_rows_and_an_unrated_period_ranks_by_response():
    from dashboard import cockpit_figures

    frame = pd.DataFrame(
        {
            "department": ["城管执法", "交警大队", "住建局"],
            "whistles": [3, 2, 1],
            "rating": [4.5, np.nan, 2.0],
            "response_h": [1.0, 3.5, np.nan],
            "on_time_rate": [1.0, 0.0, np.nan],
        }
    )
    rated = cockpit_figures.department_bars(frame, "zh")["data"][0]
    assert rated["y"] == ["住建局", "城管执法"] and rated["x"] == [2.0, 4.5]  # best at the top, 交警大队 unrated
    unrated = cockpit_figures.department_bars(frame.assign(rating=np.nan), "en")
    assert unrated["data"][0]["y"] == ["交警大队", "城管执法"] and unrated["data"][0]["x"] == [3.5, 1.0]
    assert "response" in unrated["layout"]["title"]["text"]
    nothing = cockpit_figures.department_bars(frame.iloc[:0], "zh")
    assert nothing["data"] == [] and nothing["layout"]["annotations"][0]["text"] == "本期无数据"
    empty_trend = cockpit_figures.trend_lines(pd.DataFrame(columns=["week", "closure_rate"]), "closure_rate", "zh")
    assert empty_trend["data"] == [] and empty_trend["layout"]["annotations"]


def test_the_colour_bar_sits_below_the_mode_bar(data):
    level, code = data.shapes.home()
    shaded = leader.cockpit_parts(data, level, code, "closure_rate", "7d", "zh", SimpleNamespace(tile_url=None))[2]
    bar = shaded["data"][0]["colorbar"]
    assert bar["y"] + bar["len"] / 2 <= 0.75  # the mode bar takes the card's top right corner


def test_periods_are_whole_days_but_today_and_the_trend_starts_on_a_monday():
    import datetime as dt

    until = dt.datetime(2026, 11, 22, 18, 0)  # a Sunday evening
    spans = cockpit.periods(until, "7d")
    assert spans["current"] == (dt.datetime(2026, 11, 16), until)  # Monday 00:00 … now: 7 calendar days
    assert spans["previous"] == (dt.datetime(2026, 11, 9), dt.datetime(2026, 11, 16))
    assert spans["last_year"][0] == dt.datetime(2025, 11, 17)  # 52 weeks earlier: the same weekday
    assert cockpit.periods(until, "24h")["current"] == (until - dt.timedelta(hours=24), until)
    since = cockpit.trend_since(until)
    assert since == dt.datetime(2026, 8, 31) and since.weekday() == 0 and (until - since).days // 7 + 1 == 12
