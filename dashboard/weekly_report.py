"""The 周报 (weekly report): an Excel workbook with the cockpit's tables and native Excel charts, made offline.

Sheets: 概览 (the unit's indicators now, before and a year before), 排名 (the children by the chosen
indicator with a bar chart of this period beside the previous one), 部门 (the department ranking with a
bar chart), 趋势 (the weekly trend with a line chart).  Text cells are neutralised as in
:mod:`dashboard.exports`, so a unit's name never runs as a formula.
"""

from __future__ import annotations

import io

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference

from dashboard.exports import neutralise
from dashboard.views.cockpit import label, ranked
from pipelines.store.loop_indicators import INDICATORS


def _write(sheet, frame: pd.DataFrame, first_row: int = 1) -> None:
    """The frame as a table from ``first_row`` (header first); text cells stored as text, NaN as empty."""
    safe = neutralise(frame)
    for c, name in enumerate(safe.columns, start=1):
        sheet.cell(row=first_row, column=c, value=name).data_type = "s"
    for r, row in enumerate(safe.itertuples(index=False), start=first_row + 1):
        for c, value in enumerate(row, start=1):
            if value is None or (isinstance(value, float) and pd.isna(value)):
                continue
            cell = sheet.cell(row=r, column=c, value=value.item() if hasattr(value, "item") else value)
            if isinstance(value, str):
                cell.data_type = "s"


def _bar_chart(sheet, title: str, rows: int, value_cols: tuple[int, int], horizontal: bool = False) -> BarChart:
    chart = BarChart()
    chart.type = "bar" if horizontal else "col"
    chart.title = title
    chart.height, chart.width = 9, 18
    data = Reference(sheet, min_col=value_cols[0], max_col=value_cols[1], min_row=1, max_row=rows + 1)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=rows + 1))
    return chart


def report_workbook(model: dict, indicator: str, title: str, lang: str) -> bytes:
    book = Workbook()
    overview = book.active
    overview.title = "概览" if lang != "en" else "Overview"
    since, until = model["spans"]["current"]
    overview.append([f"{title} · {since:%Y-%m-%d %H:%M} — {until:%Y-%m-%d %H:%M}"])
    periods = ("current", "previous", "last_year")
    table = pd.DataFrame(
        {
            label("indicator", lang): [label(k, lang) for k in INDICATORS],
            **{label(p, lang): [model["unit"][p].get(k) for k in INDICATORS] for p in periods},
        }
    )
    _write(overview, table, first_row=3)

    ranking_sheet = book.create_sheet("排名" if lang != "en" else "Ranking")
    children = ranked(model["children"], indicator)
    if children is not None and not children.empty:
        columns = {"name": label("indicator", lang), indicator: label("current", lang)}
        columns[indicator + "_prev"] = label("previous", lang)
        frame = children[list(columns)].rename(columns=columns)
        _write(ranking_sheet, frame)
        ranking_sheet.add_chart(_bar_chart(ranking_sheet, label(indicator, lang), len(frame), (2, 3)), "E2")

    department_sheet = book.create_sheet("部门" if lang != "en" else "Departments")
    departments = model["departments"]
    if not departments.empty:
        frame = departments[["department", "rating", "response_h", "whistles", "on_time_rate", "rank"]]
        _write(department_sheet, frame)
        chart = _bar_chart(department_sheet, label("departments", lang), len(frame), (2, 2), horizontal=True)
        department_sheet.add_chart(chart, "H2")

    trend_sheet = book.create_sheet("趋势" if lang != "en" else "Trend")
    trend = model["trend"]
    if len(trend):
        keys = list(dict.fromkeys([indicator, "closure_rate", "on_time_closure_rate"]))
        frame = trend[["week", *keys]].assign(week=[str(w)[:10] for w in trend["week"]])
        frame.columns = ["week", *(label(k, lang) for k in keys)]
        _write(trend_sheet, frame)
        chart = LineChart()
        chart.title, chart.height, chart.width = label("trend", lang), 9, 18
        chart.add_data(
            Reference(trend_sheet, min_col=2, max_col=1 + len(keys), min_row=1, max_row=len(frame) + 1),
            titles_from_data=True,
        )
        chart.set_categories(Reference(trend_sheet, min_col=1, min_row=2, max_row=len(frame) + 1))
        trend_sheet.add_chart(chart, "F2")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
