"""领导驾驶舱: the leader view — streets or communities ranked, with CSV and Excel export."""

from __future__ import annotations

import dash
from dash import Dash, Input, Output, State, ctx, dash_table, dcc, html

from dashboard.components.shell import mirror, page_stores, sync_query, unit_of
from dashboard.components.tiles import TABLE_STYLE
from dashboard.components.urls import lang_of, parse_query
from dashboard.i18n import t
from dashboard.views import leader as view

dash.register_page(__name__, path="/leader", name="领导驾驶舱", title="一网统管 · 全息网格地图", order=1)


def layout(**query) -> html.Div:
    state = parse_query(query)
    lang = state["lang"]
    windows = [{"label": t(f"w_{k}", lang), "value": k} for k in ("24h", "7d", "30d")]
    return html.Div(
        className="gt-leader",
        children=[
            *page_stores("leader"),
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
                    dcc.RadioItems(
                        id="leader-window",
                        options=windows,
                        value=state["window"] if state["window"] in view.RANK_WINDOWS else "7d",
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
    mirror(app, "leader")

    sync_query(app, "leader", {"rank": ("leader-level", "value"), "window": ("leader-window", "value")})

    @app.callback(
        Output("leader-ranking", "data"),
        Input("leader-unit", "data"),
        Input("leader-level", "value"),
        Input("leader-window", "value"),
        Input("leader-version", "data"),
    )
    def ranking(unit, child, window, _version):
        return view.ranking_rows(data, *unit_of(unit, data.shapes), child, window)

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
