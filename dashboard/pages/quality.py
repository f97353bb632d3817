"""数据质量: the data-quality report — loads and rejects per kind, grid topology, stray points, facility gaps."""

from __future__ import annotations

import dash
from dash import Dash, Input, Output, State, dash_table, html

from dashboard.components.shell import mirror, page_stores
from dashboard.components.tiles import TABLE_STYLE
from dashboard.components.urls import lang_of, parse_query
from dashboard.i18n import t
from dashboard.views import quality as view

dash.register_page(__name__, path="/quality", name="数据质量", title="一网统管 · 全息网格地图", order=4)


def layout(**query) -> html.Div:
    lang = parse_query(query)["lang"]
    return html.Div(
        className="gt-quality",
        children=[
            *page_stores("quality"),
            html.P(t("q_intro", lang), className="gt-note"),
            html.Div(id="quality-sections"),
        ],
    )


def section_block(section: view.Section) -> html.Section:
    return html.Section(
        className="gt-quality-section",
        children=[
            html.H3(section.title),
            html.P(section.note, className="gt-note") if section.note else None,
            dash_table.DataTable(
                id=f"quality-{section.key}",
                columns=section.columns,
                data=section.rows,
                sort_action="native",
                page_size=15,
                **TABLE_STYLE,
            ),
        ],
    )


def register_callbacks(app: Dash, context) -> None:
    data = context.data
    mirror(app, "quality")

    @app.callback(
        Output("quality-sections", "children"),
        Input("quality-version", "data"),
        State("url", "search"),
    )
    def sections(_version, search):
        return [section_block(section) for section in view.sections(data, lang_of(search))]
