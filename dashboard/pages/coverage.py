"""服务圈分析: the planner's page — who is not within a walk of each facility type, and where to build next."""

from __future__ import annotations

import dash
import flask
from dash import Dash, Input, Output, State, ctx, dash_table, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.components.graphs import graph
from dashboard.components.shell import map_size_store, mirror, page_stores, report_map_size, sync_query, unit_of
from dashboard.components.tiles import TABLE_STYLE
from dashboard.components.urls import lang_of, parse_query
from dashboard.i18n import facility_label, t
from dashboard.pages import current
from dashboard.queries import CHILD
from dashboard.views import coverage as view

dash.register_page(__name__, path="/coverage", name="服务圈分析", title="一网统管 · 全息网格地图", order=3)

BUTTONS = ("suggest", "cancel", "clear", "recompute", "export-csv", "export-xlsx", "export-uncovered")
JOB_POLL_MS = 700
LABELS = {"export-csv": "export_csv", "export-xlsx": "export_xlsx", "export-uncovered": "export_uncovered"}


def _controls(kind: str | None, types: list[str], lang: str) -> html.Div:
    return html.Div(
        className="gt-controls",
        children=[
            html.Label(t("facility_type", lang)),
            dcc.Dropdown(
                id="coverage-type",
                options=[{"label": facility_label(k, lang), "value": k} for k in types],
                value=kind,
                clearable=False,
                className="gt-dropdown",
            ),
            html.Span(id="coverage-tier", className="gt-tier"),
            html.Label(t("sites_k", lang)),
            dcc.Input(id="coverage-k", type="number", min=1, max=10, step=1, value=3, className="gt-input"),
            *[
                html.Button(t(LABELS.get(b, b), lang), id=f"coverage-{b}", className="gt-button", n_clicks=0)
                for b in BUTTONS
            ],
            dcc.Download(id="coverage-download"),
        ],
    )


def layout(**query) -> html.Div:
    state = parse_query(query)
    lang = state["lang"]
    types = view.facility_types(current().data)
    kind = state.get("ftype") if state.get("ftype") in types else (types[0] if types else None)
    map_config = {"displaylogo": False, "scrollZoom": True}
    return html.Div(
        className="gt-coverage",
        children=[
            *page_stores("coverage"),
            map_size_store("coverage"),
            dcc.Store(id="coverage-selection"),
            dcc.Store(id="coverage-sites-data"),
            dcc.Store(id="coverage-job"),
            dcc.Interval(id="coverage-job-poll", interval=JOB_POLL_MS, disabled=True),
            _controls(kind, types, lang),
            html.Div(
                className="gt-method-row",
                children=[
                    html.Div(id="coverage-method", className="gt-method"),
                    dcc.Loading(html.Div(id="coverage-status", className="gt-status"), type="dot"),
                    html.Div(id="coverage-progress", className="gt-status"),
                ],
            ),
            html.Div(
                className="gt-coverage-body",
                children=[
                    html.Section(
                        className="gt-coverage-main",
                        children=[
                            graph("coverage-map", className="gt-map gt-map-coverage", config=map_config),
                            html.Div(t("coverage_hint", lang), className="gt-hint"),
                        ],
                    ),
                    html.Section(
                        className="gt-coverage-side",
                        children=[
                            html.Div(id="coverage-kpis", className="gt-kpis"),
                            html.Div(id="coverage-whatif", className="gt-whatif"),
                            dash_table.DataTable(
                                id="coverage-sites",
                                columns=[{"name": t(label, lang), "id": key} for key, label in view.SITE_COLUMNS],
                                **TABLE_STYLE,
                            ),
                        ],
                    ),
                ],
            ),
            dash_table.DataTable(id="coverage-table", sort_action="native", page_size=15, **TABLE_STYLE),
        ],
    )


def register_callbacks(app: Dash, context) -> None:
    data, tile_url = context.data, context.tile_url
    mirror(app, "coverage")
    shapes = data.shapes

    sync_query(app, "coverage", {"ftype": ("coverage-type", "value")})
    report_map_size(app, "coverage")

    @app.callback(
        Output("coverage-selection", "data"),
        Input("coverage-map", "clickData"),
        Input("coverage-clear", "n_clicks"),
        Input("coverage-type", "value"),
        Input("coverage-unit", "data"),
        prevent_initial_call=True,
    )
    def select(click, _clear, _kind, _unit):
        if ctx.triggered_id != "coverage-map":
            return None
        return view.selection(click) or no_update

    @app.callback(
        Output("coverage-job", "data"),
        Output("coverage-job-poll", "disabled"),
        Output("coverage-sites-data", "data"),
        Output("coverage-sites", "data"),
        Input("coverage-suggest", "n_clicks"),
        Input("coverage-cancel", "n_clicks"),
        Input("coverage-clear", "n_clicks"),
        Input("coverage-type", "value"),
        Input("coverage-unit", "data"),
        State("coverage-k", "value"),
        State("coverage-job", "data"),
        prevent_initial_call=True,
    )
    def suggest(_suggest, _cancel, _clear, kind, unit, k, running):
        """Suggested sites run as a background job; anything else cancels the one running."""
        data.planner.jobs.cancel(running)
        if ctx.triggered_id != "coverage-suggest" or not kind:
            return None, True, None, []
        return view.start_suggestion(data, kind, *unit_of(unit, shapes), k), False, None, []

    @app.callback(
        Output("coverage-progress", "children"),
        Output("coverage-job-poll", "disabled", allow_duplicate=True),
        Output("coverage-sites-data", "data", allow_duplicate=True),
        Output("coverage-sites", "data", allow_duplicate=True),
        Input("coverage-job-poll", "n_intervals"),
        State("coverage-job", "data"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def progress(_tick, job_id, search):
        text, rows, polling = view.suggestion_progress(data, job_id, lang_of(search))
        if rows is None:
            return text, not polling, no_update, no_update
        return text, True, rows, rows

    @app.callback(
        Output("coverage-map", "figure"),
        Output("coverage-kpis", "children"),
        Output("coverage-method", "children"),
        Output("coverage-method", "className"),
        Output("coverage-tier", "children"),
        Output("coverage-whatif", "children"),
        Input("coverage-unit", "data"),
        Input("coverage-type", "value"),
        Input("coverage-selection", "data"),
        Input("coverage-sites-data", "data"),
        Input("coverage-version", "data"),
        Input("coverage-viewport", "data"),
        State("url", "search"),
    )
    def show(unit, kind, selected, sites, _version, viewport, search):
        unit_code = unit_of(unit, shapes)
        return view.build_view(data, tile_url, *unit_code, kind, selected, sites, lang_of(search), viewport)

    _register_table_callbacks(app, context)


def _register_table_callbacks(app: Dash, context) -> None:
    """The area table, its drill-down, recompute and exports."""
    data = context.data
    shapes = data.shapes

    @app.callback(
        Output("coverage-table", "data"),
        Output("coverage-table", "columns"),
        Input("coverage-unit", "data"),
        Input("coverage-version", "data"),
        State("url", "search"),
    )
    def table(unit, _version, search):
        if data.planner.run() is None:
            return [], []
        frame, columns = view.area_table(data, *unit_of(unit, shapes), lang_of(search))
        return frame.to_dict("records"), columns

    @app.callback(
        Output("unit", "data", allow_duplicate=True),
        Input("coverage-table", "active_cell"),
        State("coverage-table", "derived_viewport_data"),
        State("coverage-unit", "data"),
        prevent_initial_call=True,
    )
    def drill(cell, rows, unit):
        level, _ = unit_of(unit, shapes)
        if not cell or not rows or level == "grid" or cell["row"] >= len(rows):
            raise PreventUpdate
        return {"level": CHILD[level], "code": rows[cell["row"]]["code"]}

    @app.callback(
        Output("coverage-status", "children"),
        Input("coverage-recompute", "n_clicks"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def recompute(clicks, search):
        if not clicks:
            raise PreventUpdate
        if not view.may_recompute(flask.session.get("role")):
            return t("recompute_refused", lang_of(search))
        result = data.planner.recompute()
        return t("computed", lang_of(search)).format(n=len(result.types), s=sum(result.timings_s.values()))

    @app.callback(
        Output("coverage-download", "data"),
        Input("coverage-export-csv", "n_clicks"),
        Input("coverage-export-xlsx", "n_clicks"),
        Input("coverage-export-uncovered", "n_clicks"),
        State("coverage-unit", "data"),
        State("coverage-type", "value"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def export(_csv, _xlsx, _uncovered, unit, kind, search):
        if not ctx.triggered or not ctx.triggered[0]["value"] or data.planner.run() is None:
            raise PreventUpdate
        stamp = data.clock().strftime("%Y%m%d-%H%M")
        which = ctx.triggered_id.removeprefix("coverage-export-")
        content, name = view.export(data, *unit_of(unit, shapes), kind, which, lang_of(search), stamp)
        return dcc.send_bytes(content, name)
