"""领导驾驶舱: the leader cockpit — indicators of the unit with 环比/同比, ranked bars and a choropleth of its
children (click to drill down street → community → grid), 红黑榜, department ranking, weekly trends, the
周报 export, and the ranking table with CSV and Excel export below."""

from __future__ import annotations

import dash
from dash import Dash, Input, Output, State, ctx, dash_table, dcc, html, no_update

from dashboard.components.graphs import graph
from dashboard.components.shell import mirror, page_stores, sync_query, unit_of
from dashboard.components.tiles import TABLE_STYLE
from dashboard.components.urls import lang_of, parse_query
from dashboard.i18n import t
from dashboard.views import cockpit
from dashboard.views import leader as view
from pipelines.store.loop_indicators import INDICATORS

dash.register_page(__name__, path="/leader", name="领导驾驶舱", title="一网统管 · 全息网格地图", order=1)


def _graph(graph_id: str, height: int) -> dcc.Graph:
    return graph(graph_id, config={"displaylogo": False}, style={"height": f"{height}px"}, className="gt-card")


def layout(**query) -> html.Div:
    state = parse_query(query)
    lang = state["lang"]
    windows = [{"label": t(f"w_{k}", lang), "value": k} for k in ("24h", "7d", "30d")]
    indicator = query.get("ind") if query.get("ind") in INDICATORS else "closure_rate"
    return html.Div(
        className="gt-leader",
        children=[
            *page_stores("leader"),
            html.Div(
                className="gt-controls",
                children=[
                    dcc.Dropdown(
                        id="leader-indicator",
                        options=[{"label": cockpit.label(k, lang), "value": k} for k in INDICATORS],
                        value=indicator,
                        clearable=False,
                        className="gt-dropdown gt-cockpit-indicator",
                    ),
                    dcc.RadioItems(
                        id="leader-window",
                        options=windows,
                        value=state["window"] if state["window"] in view.RANK_WINDOWS else "7d",
                        inline=True,
                        className="gt-radio",
                    ),
                    html.Button(cockpit.label("weekly_report", lang), id="leader-export-report", className="gt-button"),
                    dcc.Download(id="leader-report"),
                ],
            ),
            html.Div(id="leader-kpis", className="gt-cockpit-kpis"),
            html.Div(
                className="gt-cockpit",
                children=[
                    _graph("leader-bars", 320),
                    _graph("leader-map", 320),
                    html.Div(id="leader-boards", className="gt-card gt-cockpit-boards"),
                    _graph("leader-departments", 300),
                    _graph("leader-trend", 300),
                ],
            ),
            html.Div(
                className="gt-controls",
                children=[
                    dcc.RadioItems(
                        id="leader-level",
                        options=[
                            {"label": t("rank_streets", lang), "value": "street"},
                            {"label": t("rank_communities", lang), "value": "community"},
                        ],
                        value=state.get("rank") if state.get("rank") in view.RANK_LEVELS else "street",
                        inline=True,
                        className="gt-radio",
                    ),
                    html.Button(t("export_csv", lang), id="leader-export-csv", className="gt-button"),
                    html.Button(t("export_xlsx", lang), id="leader-export-xlsx", className="gt-button"),
                    dcc.Download(id="leader-download"),
                ],
            ),
            dash_table.DataTable(
                id="leader-ranking",
                columns=view.ranking_columns(lang),
                sort_action="native",
                page_size=25,
                **TABLE_STYLE,
            ),
        ],
    )


def register_callbacks(app: Dash, context) -> None:
    data = context.data
    shapes = data.shapes
    mirror(app, "leader")

    sync_query(
        app,
        "leader",
        {
            "rank": ("leader-level", "value"),
            "window": ("leader-window", "value"),
            "ind": ("leader-indicator", "value"),
        },
    )

    @app.callback(
        Output("leader-kpis", "children"),
        Output("leader-bars", "figure"),
        Output("leader-map", "figure"),
        Output("leader-boards", "children"),
        Output("leader-departments", "figure"),
        Output("leader-trend", "figure"),
        Input("leader-unit", "data"),
        Input("leader-indicator", "value"),
        Input("leader-window", "value"),
        Input("leader-version", "data"),
        State("url", "search"),
    )
    def draw(unit, indicator, window, _version, search):
        return view.cockpit_parts(data, *unit_of(unit, shapes), indicator, window, lang_of(search), context)

    @app.callback(
        Output("unit", "data", allow_duplicate=True),
        Input("leader-bars", "clickData"),
        Input("leader-map", "clickData"),
        State("leader-unit", "data"),
        prevent_initial_call=True,
    )
    def drill(bar_click, map_click, unit):
        click = bar_click if ctx.triggered_id == "leader-bars" else map_click
        return view.drill_target(click, *unit_of(unit, shapes)) or no_update

    @app.callback(
        Output("leader-ranking", "data"),
        Input("leader-unit", "data"),
        Input("leader-level", "value"),
        Input("leader-window", "value"),
        Input("leader-version", "data"),
    )
    def ranking(unit, child, window, _version):
        return view.ranking_rows(data, *unit_of(unit, shapes), child, window)

    @app.callback(
        Output("leader-report", "data"),
        Input("leader-export-report", "n_clicks"),
        State("leader-unit", "data"),
        State("leader-indicator", "value"),
        State("leader-window", "value"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def report(_clicks, unit, indicator, window, search):
        content, name = view.weekly_report(data, *unit_of(unit, shapes), indicator, window, lang_of(search))
        return dcc.send_bytes(content, name)

    @app.callback(
        Output("leader-download", "data"),
        Input("leader-export-csv", "n_clicks"),
        Input("leader-export-xlsx", "n_clicks"),
        State("leader-ranking", "data"),
        State("leader-level", "value"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def export(_csv, _xlsx, rows, child, search):
        excel = ctx.triggered_id == "leader-export-xlsx"
        content, name = view.export(rows, child, lang_of(search), data.clock().strftime("%Y%m%d-%H%M"), excel)
        return dcc.send_bytes(content, name)
