"""The wall's view models (issue 17): ticker places, the incident panel's assignee and refusals, the duty block,
chart text for the screen, playback's last hour, the panel's redraw key."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard import duty_queries, figures
from dashboard.components import incident_panel
from dashboard.components.panels import place
from dashboard.views import command, incidents, playback
from tests.conftest import DEMO_END


def test_ticker_place_does_not_repeat_the_community():
    assert place("翠苑一区社区", "翠苑一区社区第3网格") == "翠苑一区社区 · 第3网格"
    assert place("翠苑一区社区", "西湖网格") == "翠苑一区社区 · 西湖网格"
    assert place("翠苑一区社区", "翠苑一区社区") == "翠苑一区社区 · 翠苑一区社区"
    assert place(None, "第3网格") == "第3网格" and place("社区", None) == "社区"


def _view(**extra) -> dict:
    base = {"assignee": None, "assignee_type": None, "suggestions": {"grid_workers": []}, "history": []}
    return base | extra


def test_current_assignee_comes_from_the_assignment_else_the_newest_dispatch():
    history = [
        {"to_status": "dispatched", "note": "派单至城管执法"},
        {"to_status": "in_progress", "note": "处置中"},
    ]
    assert incidents.current_assignee(_view(history=history)) == "城管执法"
    history.append({"to_status": "dispatched", "note": "派单至交警大队"})
    assert incidents.current_assignee(_view(history=history)) == "交警大队"
    typed = [{"to_status": "dispatched", "note": "请尽快处理"}]
    assert incidents.current_assignee(_view(history=typed)) is None
    workers = {"grid_workers": [{"worker_id": "W7", "role": "专职网格员", "name": "张*"}]}
    stored = _view(assignee="W7", assignee_type="worker", suggestions=workers, history=history)
    assert incidents.current_assignee(stored) == "专职网格员 张*"
    assert incidents.current_assignee(_view(assignee="司法所", assignee_type="department")) == "司法所"


def test_refusals_are_in_the_page_language(data):
    with data.cursor() as cur:
        closed = cur.execute("SELECT incident_id FROM incidents WHERE status = 'evaluated' LIMIT 1").fetchone()[0]
        going = cur.execute("SELECT incident_id FROM incidents WHERE status = 'in_progress' LIMIT 1").fetchone()[0]
    assert incidents.act(data, going, "resolve", {"note": "  "}, "d", "zh") == "请填写办理意见"
    assert incidents.act(data, going, "resolve", {}, "d", "en") == "Please write a note"
    assert incidents.act(data, closed, "accept", {}, "d", "zh") == "事件当前为“回访评价”，不能受理"
    assert "is Evaluated" in incidents.act(data, closed, "accept", {}, "d", "en")
    assert incidents.act(data, "NOPE", "accept", {}, "d", "zh") == "事件 NOPE 不存在"
    with data.cursor() as cur:
        assert cur.execute("SELECT status FROM incidents WHERE incident_id = ?", [going]).fetchone()[0] == "in_progress"


def test_panel_controls_are_redrawn_only_when_what_they_offer_changes(data):
    with data.cursor() as cur:
        incident_id = cur.execute("SELECT incident_id FROM incidents WHERE status = 'reported' LIMIT 1").fetchone()[0]
    view = incidents.detail(data, incident_id, "dispatcher")
    key = incident_panel.drawn_key(view, "dispatcher", "zh")
    assert key == incident_panel.drawn_key(incidents.detail(data, incident_id, "dispatcher"), "dispatcher", "zh")
    assert key != incident_panel.drawn_key(
        view | {"status": "accepted", "allowed_actions": ["dispatch"]}, "dispatcher", "zh"
    )
    assert key != incident_panel.drawn_key(view, "viewer", "zh") and incident_panel.drawn_key(None, "x", "zh") is None


def test_duty_block_counts_match_pandas(data):
    with data.cursor() as cur:
        open_ = cur.execute(
            "SELECT o.street_code, c.affair_class FROM open_incidents o JOIN categories c USING (category)"
        ).df()
        workers = cur.execute("SELECT g.street_code FROM grid_workers w JOIN grids g USING (grid_code)").df()
        grids = cur.execute("SELECT street_code FROM grids").df()
        street = grids["street_code"].iloc[0]
        split = duty_queries.open_by_affair(cur, "street", street)
        on_duty = duty_queries.workers_on_duty(cur, "street", street)
    expected = open_[open_["street_code"] == street]["affair_class"].value_counts()
    assert dict(zip(split["affair_class"], split["n"], strict=True)) == expected.to_dict()
    assert on_duty == ((workers["street_code"] == street).sum(), (grids["street_code"] == street).sum())
    block = command.build_side(data, "street", street, "7d", (None, None), "zh")[5]
    assert f"{expected.sum():,}" in str(block)


def test_chart_text_scales_with_the_wall():
    assert command.chart_font_px(None) == 12
    assert command.chart_font_px({"wall": False, "width": 3840}) == 12
    assert command.chart_font_px({"wall": True, "width": 1920}) == 16
    assert command.chart_font_px({"wall": True, "width": 3840}) == 32


def test_side_charts_carry_the_wall_size_to_every_text(data):
    _, _, bars, trend, _, _ = command.build_side(data, *data.shapes.home(), "7d", (None, None), "zh", None, 32)
    for fig in (bars, trend):
        layout = fig["layout"]
        assert layout["font"]["size"] == layout["legend"]["font"]["size"] == 32
        assert layout["xaxis"]["tickfont"]["size"] == layout["yaxis"]["tickfont"]["size"] == 32
        assert layout["xaxis"]["automargin"] and layout["yaxis"]["automargin"]
        assert layout["paper_bgcolor"] == layout["plot_bgcolor"] != "rgba(0,0,0,0)"


def test_playback_ends_at_the_current_hour():
    start = dt.datetime(2026, 11, 23)
    assert playback.last_step(start, 24, dt.datetime(2026, 11, 23, 15, 40)) == 15
    assert playback.last_step(start, 24, dt.datetime(2026, 11, 24, 3)) == 23
    assert playback.last_step(start - dt.timedelta(days=6), 168, dt.datetime(2026, 11, 23, 0, 5)) == 144
    assert playback.last_step(start, 24, dt.datetime(2026, 11, 22, 23)) == 0


def test_playback_payload_stops_at_the_clock(data):
    payload, last, marks = playback.load(data, *data.shapes.home(), DEMO_END.date().isoformat(), "day")
    assert last == DEMO_END.hour and max(marks) <= last
    assert pd.DataFrame(payload["rows"])["step"].max() <= last


def test_count_axes_tick_whole_numbers_only():
    """A grid with one report of one category: ticks 0 and 1, not 0, 0.5 (printed "1") and 1."""
    few = figures.category_bars(pd.DataFrame({"category": ["物业服务"], "n": [1]}), "zh")["layout"]["xaxis"]
    assert few["dtick"] == 1 and few["tickmode"] == "linear" and few["rangemode"] == "tozero"
    many = figures.category_bars(pd.DataFrame({"category": ["物业服务", "噪声扰民"], "n": [40, 7]}), "zh")
    assert "dtick" not in many["layout"]["xaxis"]  # plotly picks round steps itself
    hours = pd.date_range("2026-12-07", periods=3, freq="h")
    quiet = figures.trend_lines(pd.DataFrame({"hour": hours, "reported": [0, 2, 1], "resolved": [0, 0, 1]}), "zh")
    assert quiet["layout"]["yaxis"]["dtick"] == 1
    empty = figures.trend_lines(pd.DataFrame({"hour": [], "reported": [], "resolved": []}), "zh")
    assert empty["layout"]["yaxis"]["dtick"] == 1


def test_a_low_wall_shows_the_largest_categories_and_the_rest_as_one_named_bar():
    assert command.category_bars_shown({"wall": True, "width": 1280, "height": 720}) == 7
    assert command.category_bars_shown({"wall": True, "width": 1920, "height": 1080}) == 10
    assert command.category_bars_shown({"wall": False, "width": 1280, "height": 720}) == 10
    assert command.category_bars_shown(None) == 10
    frame = pd.DataFrame({"category": [f"类别{k}" for k in range(10)], "n": [50, 40, 30, 25, 20, 15, 10, 5, 3, 2]})
    trace = figures.category_bars(frame, "zh", 12, 7)["data"][0]
    assert trace["y"] == ["其他4类", "类别5", "类别4", "类别3", "类别2", "类别1", "类别0"]  # largest at the top
    assert trace["x"] == [20, 15, 20, 25, 30, 40, 50] and sum(trace["x"]) == frame["n"].sum()
    assert figures.category_bars(frame, "en", 12, 7)["data"][0]["y"][0] == "4 others"
    every = figures.category_bars(frame, "zh", 12)
    assert len(every["data"][0]["y"]) == 10 and every["layout"]["yaxis"]["dtick"] == 1  # each bar labelled


def test_an_empty_overdue_list_says_so():
    from dashboard.components import panels

    empty = pd.DataFrame(columns=["incident_id", "category", "status", "reported_at", "due_at", "community", "grid"])
    now = dt.datetime(2026, 12, 7, 12)
    blocks = panels.ticker_lists(empty, empty, now, now, "zh")
    assert [b.children for b in blocks if getattr(b, "className", "") == "gt-tick-none"] == ["暂无超期未办结事件"]


def test_the_ticker_shows_the_time_today_and_the_date_before():
    from dashboard.components import panels

    now = dt.datetime(2026, 12, 7, 12, 30)
    assert panels.report_time(pd.Timestamp("2026-12-07 00:05"), now) == "00:05"
    assert panels.report_time(pd.Timestamp("2026-12-06 23:55"), now) == "12-06"
