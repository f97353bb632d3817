"""The leader view's view model: the cockpit's parts, drill-down, the 周报, the ranking table and its export."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from dash import html

from dashboard import cockpit_figures as figures
from dashboard.components.tiles import table_column
from dashboard.exports import csv_bytes, xlsx_bytes
from dashboard.i18n import t
from dashboard.views import cockpit
from dashboard.weekly_report import report_workbook
from pipelines.store.loop_indicators import INDICATORS, LOWER_IS_BETTER

RANK_WINDOWS = {"24h": dt.timedelta(hours=24), "7d": dt.timedelta(days=7), "30d": dt.timedelta(days=30)}
RANK_LEVELS = ("street", "community")
RANK_COLUMNS = (
    ("name", "col_name"),
    ("code", "col_code"),
    ("population", "population"),
    ("incidents", "col_incidents"),
    ("per_1000", "col_per_1000"),
    ("closure_rate", "col_closure"),
    ("overdue", "col_overdue"),
    ("handling_h", "col_handling"),
    ("satisfaction", "col_satisfaction"),
)


RANK_DECIMALS = {"population": 0, "incidents": 0, "per_1000": 1, "closure_rate": 1, "overdue": 0, "handling_h": 1}
RANK_DECIMALS["satisfaction"] = 2
"""Decimals of each number in the ranking, the same on the screen and in the exports."""


def ranking_columns(lang: str) -> list[dict]:
    """The ranking's columns: numbers right-aligned with thousands separators and fixed decimals."""
    return [table_column(key, t(label, lang), RANK_DECIMALS.get(key)) for key, label in RANK_COLUMNS]


def ranking_rows(data, level: str, code: str | None, child: str, window: str) -> list[dict]:
    """The ranking table's rows, shared between clients per data version (:mod:`dashboard.models.shared`)."""
    window = window if window in RANK_WINDOWS else "7d"
    level, code = data.live.ranking_unit(level, code, child)

    def rows() -> list[dict]:
        since = data.clock() - RANK_WINDOWS[window]
        return data.live.ranking(level, code, child, since).to_dict("records")

    return data.shared.get("leader-ranking", (level, code, child, window), rows, (level, code))


def export(rows: list[dict] | None, child: str, lang: str, stamp: str, excel: bool) -> tuple[bytes, str]:
    """(content, file name) of the table as shown, with the column names in the page's language."""
    frame = pd.DataFrame(rows or [], columns=[key for key, _ in RANK_COLUMNS])
    frame.columns = [t(label, lang) for _, label in RANK_COLUMNS]
    decimals = {t(label, lang): RANK_DECIMALS[key] for key, label in RANK_COLUMNS if key in RANK_DECIMALS}
    name = f"gridtwin-{child}-{stamp}"
    if excel:
        return xlsx_bytes(frame, child, decimals), f"{name}.xlsx"
    return csv_bytes(frame, decimals), f"{name}.csv"


def cockpit_parts(data, level: str, code: str | None, indicator: str, window: str, lang: str, context) -> tuple:
    """KPI cards, ranked bars, choropleth, 红黑榜, department bars and trend of the cockpit."""
    indicator = indicator if indicator in INDICATORS else "closure_rate"
    model = cockpit.cockpit(data, level, code, window)
    children = model["children"]
    shapes = data.shapes.children(level, code) if model["child"] else None
    map_figure = (
        figures.choropleth(shapes, children, indicator, lang, context.tile_url, f"leader-{level}-{code}")
        if shapes is not None
        else figures.ranked_bars(children, indicator, lang, False)
    )
    return (
        _kpis(model, indicator, lang),
        figures.ranked_bars(children, indicator, lang, model["has_last_year"]),
        map_figure,
        _boards(children, indicator, lang),
        figures.department_bars(model["departments"], lang),
        figures.trend_lines(model["trend"], indicator, lang),
    )


def _kpis(model: dict, indicator: str, lang: str) -> list:
    now, before = model["unit"]["current"], model["unit"]["previous"]
    cards = []
    for key in INDICATORS:
        value, prev = now.get(key), before.get(key)
        delta = None if value is None or prev is None or pd.isna(value) or pd.isna(prev) else value - prev
        better = delta is not None and (delta < 0 if key in LOWER_IS_BETTER else delta > 0)
        arrow = "" if not delta else ("▲" if delta > 0 else "▼")
        cards.append(
            html.Div(
                className="gt-kpi gt-cockpit-kpi" + (" gt-cockpit-kpi-on" if key == indicator else ""),
                children=[
                    html.Div(cockpit.label(key, lang), className="gt-kpi-label"),
                    html.Div(cockpit.shown(key, value), className="gt-kpi-value"),
                    html.Small(
                        f"{cockpit.label('previous', lang)} {cockpit.shown(key, prev)} {arrow}",
                        className="gt-good" if better else "gt-bad" if delta else "",
                    ),
                ],
            )
        )
    return cards


def _boards(children: pd.DataFrame, indicator: str, lang: str) -> list:
    if children.empty:
        return [html.P(cockpit.label("no_data", lang))]
    red, black = cockpit.boards(children, indicator)
    lists = []
    for key, rows, css in (("red_list", red, "gt-red-list"), ("black_list", black, "gt-black-list")):
        items = [html.Li(f"{r['name']} · {cockpit.shown(indicator, r[indicator])}") for _, r in rows.iterrows()]
        lists.append(html.Div([html.H4(cockpit.label(key, lang)), html.Ol(items)], className=css))
    return lists


def drill_target(click: dict | None, level: str, code: str | None) -> dict | None:
    """The child unit a click on a bar or an area drills into (None below the grid or for a click on nothing)."""
    child = cockpit.child_level(level) if level != "grid" else None
    if not click or not child or child == "building":
        return None
    custom = click["points"][0].get("customdata")
    if not custom:
        return None
    return {"level": child, "code": custom[0]}


def weekly_report(data, level: str, code: str | None, indicator: str, window: str, lang: str) -> tuple[bytes, str]:
    """(content, file name) of the 周报: an Excel workbook with the cockpit's tables and charts."""
    model = cockpit.cockpit(data, level, code, window)
    names = data.shapes.breadcrumb(level, code)
    title = " · ".join(n or t("city", lang) for _, _, n in names)
    stamp = data.clock().strftime("%Y%m%d")
    content = report_workbook(model, indicator if indicator in INDICATORS else "closure_rate", title, lang)
    return content, f"gridtwin-weekly-{code or 'city'}-{stamp}.xlsx"
