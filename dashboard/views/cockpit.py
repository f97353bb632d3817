"""The leader cockpit's view model: indicators of a unit and its children for a period, the period before
(环比) and the same period a year earlier (同比, when the history reaches back that far), 红黑榜, the
department ranking and weekly trends.  One :func:`cockpit` call per (unit, window, minute), memoised."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache, partial

import numpy as np
import pandas as pd

from pipelines.store.loop_indicators import (
    INDICATORS,
    LOWER_IS_BETTER,
    child_level,
    department_ranking,
    indicators,
)

WINDOWS = {"24h": 1, "7d": 7, "30d": 30}
TREND_WEEKS = 12
BOARD_SIZE = 5
LABELS = {
    "closure_rate": ("结案率", "Closure rate"),
    "on_time_closure_rate": ("按期结案率", "On-time closure rate"),
    "rework_rate": ("返工率", "Rework rate"),
    "avg_handling_h": ("平均处置时长(小时)", "Avg handling (h)"),
    "satisfaction": ("群众满意度", "Resident satisfaction"),
    "community_evaluation": ("社区评价", "Community evaluation"),
    "whistle_response_h": ("吹哨响应(小时)", "Whistle response (h)"),
    "whistle_on_time_rate": ("按时报到率", "On-time report rate"),
    "deliberation_done_rate": ("议事办结率", "Deliberation done rate"),
    "current": ("本期", "This period"),
    "previous": ("上期(环比)", "Previous period"),
    "last_year": ("去年同期(同比)", "Same period last year"),
    "red_list": ("红榜", "Red list (best)"),
    "black_list": ("黑榜", "Black list (worst)"),
    "departments": ("部门排名(反向评价)", "Departments (rated by streets)"),
    "departments_by_response": ("部门排名(吹哨响应小时，本期无评价)", "Departments by response hours (none rated)"),
    "rating": ("评价", "Rating"),
    "trend": ("趋势(周)", "Weekly trend"),
    "weekly_report": ("导出周报", "Weekly report"),
    "indicator": ("指标", "Indicator"),
    "no_data": ("本期无数据", "No data in this period"),
    "week_to_date": ("本周(至今)", "this week so far"),
    "response": ("响应", "response"),
    "whistles": ("吹哨", "whistles"),
}
PERCENT = frozenset(
    {"closure_rate", "on_time_closure_rate", "rework_rate", "whistle_on_time_rate", "deliberation_done_rate"}
)


def label(key: str, lang: str) -> str:
    zh, en = LABELS.get(key, (key, key))
    return en if lang == "en" else zh


def shown(indicator: str, value) -> str:
    """A value as the cockpit prints it (percent for rates, one decimal otherwise, — when missing)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    return f"{value * 100:.1f}%" if indicator in PERCENT else f"{value:.1f}"


def periods(until: dt.datetime, window: str) -> dict[str, tuple[dt.datetime, dt.datetime]]:
    """This period, the one before (环比) and the same one a year earlier (同比).

    ``24h`` is the last 24 hours; ``7d`` and ``30d`` are that many calendar days, today (up to ``until``)
    included, and the period before is the same number of whole days before them: whole days are read
    from the daily roll-up, only today from the history."""
    days = WINDOWS.get(window, 7)
    length = dt.timedelta(days=days)
    year = dt.timedelta(days=364)  # whole weeks: the same weekdays a year earlier
    midnight = dt.datetime.combine(until.date() - dt.timedelta(days=days - 1), dt.time())
    start = until - length if days == 1 else midnight
    return {
        "current": (start, until),
        "previous": (start - length, start),
        "last_year": (start - year, until - year),
    }


def trend_since(until: dt.datetime) -> dt.datetime:
    """The Monday that starts the first of the trend's ``TREND_WEEKS`` weeks (the last one is this week)."""
    monday = until.date() - dt.timedelta(days=until.weekday())
    return dt.datetime.combine(monday - dt.timedelta(weeks=TREND_WEEKS - 1), dt.time())


def cockpit(data, level: str, code: str | None, window: str) -> dict:
    """Everything the cockpit draws for a unit and window, as of the current minute.

    Memoised per minute rather than per data version: a live feed changes the data every few seconds,
    and a leader's weekly figures need not follow each report (they are at most a minute old)."""
    until = data.clock().replace(second=0, microsecond=0)
    return _cockpit(data, level, code, window if window in WINDOWS else "7d", until)


@lru_cache(maxsize=64)
def _cockpit(data, level: str, code: str | None, window: str, until: dt.datetime) -> dict:
    child = child_level(level) if level != "grid" else None
    spans = periods(until, window)
    span_indicators = partial(_indicators, data)
    # the queries are independent and DuckDB runs them outside the GIL: side by side, each on its own cursor
    units = {name: data.pool.submit(data.run, span_indicators, *span, level, code) for name, span in spans.items()}
    kids = (
        {
            name: data.pool.submit(data.run, span_indicators, *span, level, code, by=child)
            for name, span in spans.items()
        }
        if child
        else {}
    )
    ranked = data.pool.submit(data.run, department_ranking, *spans["current"])
    weeks = data.pool.submit(data.run, indicators, trend_since(until), until, level, code, by="week")
    unit = {name: _one(job.result()) for name, job in units.items()}
    kids = {name: job.result() for name, job in kids.items()}
    departments, trend = ranked.result(), weeks.result()
    names = data.shapes.children(level, code)["frame"][["code", "name"]] if child else pd.DataFrame()
    return {
        "level": level,
        "code": code,
        "child": child,
        "window": window,
        "spans": spans,
        "unit": unit,
        "children": _children(kids, names),
        "has_last_year": bool(unit["last_year"].get("due")),
        "departments": departments,
        "trend": trend.sort_values("unit_code").rename(columns={"unit_code": "week"}),
    }


def _indicators(data, cur, since: dt.datetime, until: dt.datetime, level: str, code: str | None, by=None):
    """The indicators of a span; a span before the database's hot period also reads the archive (serve --archive)."""
    cold = getattr(data, "cold", None)
    if cold is None or not cold.reaches(since):
        return indicators(cur, since, until, level, code, by)
    with cold.cursor(data.con, since, until) as cold_cur:  # the roll-up covers the file only: read the history
        return indicators(cold_cur, since, until, level, code, by, rollup=False)


def _one(frame: pd.DataFrame) -> dict:
    return {} if frame.empty else frame.iloc[0].to_dict()


def _children(kids: dict[str, pd.DataFrame], names: pd.DataFrame) -> pd.DataFrame:
    """One row per child unit with each indicator now, before (_prev) and a year before (_yoy)."""
    if not kids:
        return pd.DataFrame()
    table = names.set_index("code")
    for name, suffix in (("current", ""), ("previous", "_prev"), ("last_year", "_yoy")):
        part = kids[name].set_index("unit_code")[["due", *INDICATORS]].add_suffix(suffix)
        table = table.join(part, how="left")
    return table.reset_index(names="code")


def ranked(children: pd.DataFrame, indicator: str) -> pd.DataFrame:
    """Children with a value, best first (ascending for lower-is-better indicators)."""
    if children.empty or indicator not in children:
        return children
    has = children[children[indicator].notna()]
    return has.sort_values([indicator, "code"], ascending=[indicator in LOWER_IS_BETTER, True])


def boards(children: pd.DataFrame, indicator: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """红榜 (the best few) and 黑榜 (the worst few, worst first); a unit is on one board only."""
    order = ranked(children, indicator)
    size = min(BOARD_SIZE, len(order) // 2)
    return order.head(size), order.tail(size).iloc[::-1]
