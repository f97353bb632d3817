"""KPI tiles and the dark table look shared by the pages."""

from __future__ import annotations

import pandas as pd
from dash import html
from dash.dash_table.Format import Format, Group, Scheme

TABLE_STYLE = {
    "style_as_list_view": True,
    "style_table": {"overflowX": "auto"},
    "style_header": {"backgroundColor": "#10233b", "color": "#d7e3f4", "fontWeight": "bold"},
    "style_cell": {
        "backgroundColor": "#0b1828",
        "color": "#d7e3f4",
        "border": "1px solid #1c2f48",
        "fontFamily": "Noto Sans CJK SC, sans-serif",
        "padding": "6px 10px",
        "textAlign": "right",
    },
    "style_cell_conditional": [{"if": {"column_id": "name"}, "textAlign": "left"}],
}
"""The dark table look shared by the leader view and the planner page."""


def kpi_tile(tile_id: str, label: str, value: str, unit: str = "", alert: bool = False) -> html.Div:
    """One KPI figure with its label (``tile_id`` is the component id, prefixed by its page)."""
    return html.Div(
        className="gt-kpi" + (" gt-kpi-alert" if alert else ""),
        id=tile_id,
        children=[
            html.Div(label, className="gt-kpi-label"),
            html.Div([value, html.Small(unit)], className="gt-kpi-value"),
        ],
    )


def fmt(value, digits: int = 0) -> str:
    """A number with thousands separators, or — when missing."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    return f"{value:,.{digits}f}"


def table_column(key: str, name: str, decimals: int | None) -> dict:
    """A DataTable column; a number column (``decimals`` given) shows thousands separators and fixed decimals
    (the same in Chinese and English: 1,234.5) and sorts as a number."""
    if decimals is None:
        return {"name": name, "id": key}
    number = Format(precision=decimals, scheme=Scheme.fixed, group=Group.yes, groups=3, group_delimiter=",")
    return {"name": name, "id": key, "type": "numeric", "format": number}
