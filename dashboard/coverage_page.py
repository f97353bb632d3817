"""服务圈分析: the planner's page — who is not within a walk of each facility type, and where to build next.

Layout and thin callbacks; SQL lives in :mod:`dashboard.queries`, the analysis in
:mod:`pipelines.coverage` (through :class:`dashboard.data.DashboardData`), drawing in
:mod:`dashboard.figures`.
"""

from __future__ import annotations

import io

import h3
import pandas as pd
from dash import Dash, Input, Output, State, ctx, dash_table, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import figures
from dashboard.data import ROAD_LEVELS, DashboardData, hex_resolution
from dashboard.i18n import t
from dashboard.layout import TABLE_STYLE, kpi_tile, parse_query
from dashboard.queries import CHILD
from pipelines.coverage import METHOD_LABELS

PATH = "/coverage"
UNREACHED_CAP = 2.0
"""On the hexagon map an unreached building counts as this many times its life-circle distance."""


def page(state: dict, types: list[str]) -> html.Div:
    lang = state["lang"]
    kind = state.get("ftype") if state.get("ftype") in types else (types[0] if types else None)
    button = {"className": "gt-button", "n_clicks": 0}
    return html.Div(
        className="gt-coverage",
        children=[
            dcc.Store(id="coverage-selection"),
            dcc.Store(id="coverage-sites-data"),
            html.Div(
                className="gt-controls",
                children=[
                    html.Label(t("facility_type", lang)),
                    dcc.Dropdown(
                        id="coverage-type",
                        options=[{"label": k, "value": k} for k in types],
                        value=kind,
                        clearable=False,
                        className="gt-dropdown",
                    ),
                    html.Span(id="coverage-tier", className="gt-tier"),
                    html.Label(t("sites_k", lang)),
                    dcc.Input(id="coverage-k", type="number", min=1, max=10, step=1, value=3, className="gt-input"),
                    html.Button(t("suggest", lang), id="coverage-suggest", **button),
                    html.Button(t("clear", lang), id="coverage-clear", **button),
                    html.Button(t("recompute", lang), id="coverage-recompute", **button),
                    html.Button(t("export_csv", lang), id="coverage-export-csv", **button),
                    html.Button(t("export_xlsx", lang), id="coverage-export-xlsx", **button),
                    html.Button(t("export_uncovered", lang), id="coverage-export-uncovered", **button),
                    dcc.Download(id="coverage-download"),
                ],
            ),
            html.Div(
                className="gt-method-row",
                children=[
                    html.Div(id="coverage-method", className="gt-method"),
                    dcc.Loading(html.Div(id="coverage-status", className="gt-status"), type="dot"),
                ],
            ),
            html.Div(
                className="gt-coverage-body",
                children=[
                    html.Section(
                        className="gt-coverage-main",
                        children=[
                            dcc.Graph(
                                id="coverage-map",
                                className="gt-map gt-map-coverage",
                                config={"displaylogo": False, "scrollZoom": True},
                            ),
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
                                columns=[
                                    {"name": t(label, lang), "id": key}
                                    for key, label in (
                                        ("rank", "col_rank"),
                                        ("gain", "col_gain"),
                                        ("cumulative", "col_cumulative"),
                                        ("lon", "col_lon"),
                                        ("lat", "col_lat"),
                                    )
                                ],
                                **TABLE_STYLE,
                            ),
                        ],
                    ),
                ],
            ),
            dash_table.DataTable(id="coverage-table", sort_action="native", page_size=15, **TABLE_STYLE),
        ],
    )


def _pct(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{100 * value:.1f}"


def area_table(data: DashboardData, level: str, code: str | None, lang: str) -> tuple[pd.DataFrame, list[dict]]:
    """Children of the unit with residents, completeness and % covered per facility type."""
    areas, by_type = data.coverage_areas(level, code)
    types = data.coverage_types()
    shares = by_type.pivot(index="code", columns="type", values="share")
    table = areas.set_index("code")[["name", "residents", "types_in_reach", "complete_share"]].join(shares)
    table = table.reset_index()
    table["types_in_reach"] = table["types_in_reach"].round(1)
    table["complete_share"] = (100 * table["complete_share"]).round(1)
    for kind in types["type"]:
        if kind in table:
            table[kind] = (100 * table[kind]).round(1)
    method = METHOD_LABELS[types["method"].iloc[0]] if len(types) else ""
    table[t("col_method", lang)] = method
    columns = [
        {"name": t("col_name", lang), "id": "name"},
        {"name": t("col_code", lang), "id": "code"},
        {"name": t("residents", lang), "id": "residents"},
        {"name": t("types_in_reach", lang), "id": "types_in_reach"},
        {"name": t("complete_share", lang), "id": "complete_share"},
        *[{"name": f"{k} %", "id": k} for k in types["type"] if k in table],
        {"name": t("col_method", lang), "id": t("col_method", lang)},
    ]
    return table, columns


def register(app: Dash, data: DashboardData, tile_url: str | None, unit_of, page_query) -> None:
    """``unit_of(unit) -> (level, code)`` and ``page_query`` come from the main callbacks module."""

    @app.callback(
        Output("url", "search", allow_duplicate=True),
        Input("unit", "data"),
        Input("coverage-type", "value"),
        State("url", "search"),
        State("url", "pathname"),
        prevent_initial_call=True,
    )
    def sync_url(unit, kind, search, pathname):
        return page_query(pathname, PATH, search, unit, {"ftype": kind})

    @app.callback(
        Output("coverage-selection", "data"),
        Input("coverage-map", "clickData"),
        Input("coverage-clear", "n_clicks"),
        Input("coverage-type", "value"),
        Input("unit", "data"),
        prevent_initial_call=True,
    )
    def select(click, _clear, _kind, _unit):
        if ctx.triggered_id != "coverage-map" or not click:
            return None
        point = click["points"][0]
        custom = point.get("customdata") or []
        if not custom:
            raise PreventUpdate
        if custom[0] == "facility":
            return {"kind": "facility", "id": custom[1]}
        if custom[0] == "hex":
            lat, lon = h3.cell_to_latlng(h3.int_to_str(int(custom[1], 16)))
            return {"kind": "site", "lon": lon, "lat": lat}
        if custom[0] in ("building", "site"):
            return {"kind": "site", "lon": point["lon"], "lat": point["lat"]}
        raise PreventUpdate

    @app.callback(
        Output("coverage-sites-data", "data"),
        Output("coverage-sites", "data"),
        Input("coverage-suggest", "n_clicks"),
        Input("coverage-clear", "n_clicks"),
        Input("coverage-type", "value"),
        Input("unit", "data"),
        State("coverage-k", "value"),
        State("url", "pathname"),
        prevent_initial_call=True,
    )
    def suggest(_suggest, _clear, kind, unit, k, pathname):
        if ctx.triggered_id != "coverage-suggest" or not kind or pathname != PATH:
            return None, []
        level, code = unit_of(unit)
        sites = data.suggest_sites(kind, level, code, int(min(max(k or 3, 1), 10)))
        rows = sites.assign(lon=sites["lon"].round(6), lat=sites["lat"].round(6)).to_dict("records")
        return rows, rows

    @app.callback(
        Output("coverage-map", "figure"),
        Output("coverage-kpis", "children"),
        Output("coverage-method", "children"),
        Output("coverage-method", "className"),
        Output("coverage-tier", "children"),
        Output("coverage-whatif", "children"),
        Input("unit", "data"),
        Input("coverage-type", "value"),
        Input("coverage-selection", "data"),
        Input("coverage-sites-data", "data"),
        Input("version", "data"),
        State("url", "search"),
        State("url", "pathname"),
    )
    def view(unit, kind, selection, sites, _version, search, pathname):
        if pathname != PATH:
            raise PreventUpdate
        lang = parse_query(search)["lang"]
        level, code = unit_of(unit)
        return build_view(data, tile_url, level, code, kind, selection, sites, lang)

    @app.callback(
        Output("coverage-table", "data"),
        Output("coverage-table", "columns"),
        Input("unit", "data"),
        Input("version", "data"),
        State("url", "search"),
        State("url", "pathname"),
    )
    def table(unit, _version, search, pathname):
        if pathname != PATH:
            raise PreventUpdate
        if data.coverage_run() is None:
            return [], []
        level, code = unit_of(unit)
        frame, columns = area_table(data, level, code, parse_query(search)["lang"])
        return frame.to_dict("records"), columns

    @app.callback(
        Output("unit", "data", allow_duplicate=True),
        Input("coverage-table", "active_cell"),
        State("coverage-table", "derived_viewport_data"),
        State("unit", "data"),
        prevent_initial_call=True,
    )
    def drill(cell, rows, unit):
        level, _ = unit_of(unit)
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
        lang = parse_query(search)["lang"]
        result = data.recompute_coverage()
        return t("computed", lang).format(n=len(result.types), s=sum(result.timings_s.values()))

    @app.callback(
        Output("coverage-download", "data"),
        Input("coverage-export-csv", "n_clicks"),
        Input("coverage-export-xlsx", "n_clicks"),
        Input("coverage-export-uncovered", "n_clicks"),
        State("unit", "data"),
        State("coverage-type", "value"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def export(_csv, _xlsx, _uncovered, unit, kind, search):
        if not ctx.triggered or not ctx.triggered[0]["value"] or data.coverage_run() is None:
            raise PreventUpdate
        lang = parse_query(search)["lang"]
        level, code = unit_of(unit)
        stamp = data.clock().strftime("%Y%m%d-%H%M")
        if ctx.triggered_id == "coverage-export-uncovered":
            frame = uncovered_export(data, level, code, kind, lang)
            name = f"gridtwin-uncovered-{kind}-{stamp}.csv"
            return dcc.send_string(frame.to_csv(index=False), name, type="text/csv;charset=utf-8")
        frame, columns = area_table(data, level, code, lang)
        frame = frame[[c["id"] for c in columns]]
        frame.columns = [c["name"] for c in columns]
        name = f"gridtwin-coverage-{level}-{stamp}"
        if ctx.triggered_id == "coverage-export-xlsx":
            buffer = io.BytesIO()
            frame.to_excel(buffer, index=False, sheet_name="coverage")
            return dcc.send_bytes(buffer.getvalue(), f"{name}.xlsx")
        return dcc.send_string(frame.to_csv(index=False), f"{name}.csv", type="text/csv;charset=utf-8")


def uncovered_export(data: DashboardData, level: str, code: str | None, kind: str, lang: str) -> pd.DataFrame:
    frame = data.uncovered(level, code, kind, limit=1_000_000)
    types = data.coverage_types().set_index("type")
    method = METHOD_LABELS[types.loc[kind, "method"]] if kind in types.index else ""
    return pd.DataFrame(
        {
            "building_id": frame["building_id"],
            t("col_name", lang): frame["name"],
            t("col_community", lang): frame["community"],
            t("residents", lang): frame["residents"],
            t("col_distance", lang): frame["distance_m"].round(0),
            t("col_lon", lang): frame["lon"],
            t("col_lat", lang): frame["lat"],
            t("facility_type", lang): kind,
            t("col_method", lang): method,
        }
    )


def build_view(data: DashboardData, tile_url, level, code, kind, selection, sites, lang) -> tuple:
    """Map, KPI tiles, method banner, tier label and what-if panel (also used by the benchmark)."""
    run = data.coverage_run()
    children = data.children(level, code)
    outline = figures.outline_layer(children["outline"], "#28c2ff", 2.5) if children["outline"] else []
    outline += figures.outline_layer(figures.child_outlines(children), "#6fb7ff", 0.8)
    empty = figures.coverage_map(
        lang=lang,
        children=children,
        cells=None,
        speed_m_per_min=60,
        tier_minutes=15,
        facilities=None,
        uncovered=None,
        area=None,
        what_if=None,
        sites=None,
        outline_layers=outline,
        roads=None,
        tile_url=tile_url,
        uirevision=f"{level}:{code}",
    )
    types = data.coverage_types().set_index("type") if run else pd.DataFrame()
    if run is None or kind not in types.index:
        return empty, [], t("no_coverage", lang), "gt-method gt-method-warn", "", None
    row = types.loc[kind]
    threshold, tier = float(row["threshold_m"]), float(row["tier_minutes"])
    speed = float(run["speed"])
    cells = data.access_cells(level, code, kind, hex_resolution(children["zoom"]) - 1, UNREACHED_CAP * threshold)
    facilities = data.facilities(level, code, kind)
    uncovered = data.uncovered(level, code, kind) if level in ROAD_LEVELS else None
    area = what_if = None
    if selection and selection.get("kind") == "facility":
        area = data.service_area(selection["id"], kind)
    elif selection and selection.get("kind") == "site":
        what_if = data.what_if(kind, selection["lon"], selection["lat"], level, code)
    sites_frame = pd.DataFrame(sites) if sites else None
    roads = data.roads(children["bounds"]) if level in ROAD_LEVELS else None
    fig = figures.coverage_map(
        lang=lang,
        children=children,
        cells=cells,
        speed_m_per_min=speed,
        tier_minutes=threshold / speed,
        facilities=facilities,
        uncovered=uncovered,
        area=area,
        what_if=what_if,
        sites=sites_frame,
        outline_layers=outline,
        roads=roads,
        tile_url=tile_url,
        uirevision=f"{level}:{code}:{kind}",
    )
    frame = cells[0]
    residents = frame["residents"].sum()
    covered = (frame["residents"] * frame["share"].fillna(0)).sum()
    areas, _ = data.coverage_areas(level, code)
    completeness = (areas["types_in_reach"] * areas["residents"]).sum() / max(areas["residents"].sum(), 1)
    required = int(areas["required_types"].max()) if len(areas) else 0
    straight = run["method"] == "straight_line"
    tiles = [
        kpi_tile(
            "cov-share",
            t("kpi_covered", lang),
            _pct(covered / residents if residents else None),
            "%",
            alert=residents > 0 and covered / residents < 0.5,
        ),
        kpi_tile("cov-uncovered", t("kpi_uncovered", lang), f"{int(residents - covered):,}", t("people", lang)),
        kpi_tile("cov-complete", t("kpi_completeness", lang), f"{completeness:.1f}", f"/{required}"),
        kpi_tile("cov-facilities", t("kpi_facilities", lang), f"{len(facilities):,}", ""),
    ]
    banner = [
        t("method_straight_line" if straight else "method_network", lang),
        f" · {t('walk_speed', lang)} {speed:g} {t('m_per_min', lang)}",
        f" · {t('computed_at', lang)} {run['run_at']:%Y-%m-%d %H:%M}",
    ]
    if run["stale"]:
        banner.append(html.B(" · " + t("stale", lang)))
    css = "gt-method gt-method-warn" if straight or run["stale"] else "gt-method"
    tier_text = f"{tier:g}{'分钟' if lang == 'zh' else '-min'} {t('life_circle', lang)} · ≤{threshold:,.0f} m"
    if straight:
        tier_text += " (" + ("直线" if lang == "zh" else "straight line") + ")"
    panel = None
    if what_if is not None:
        panel = [
            html.H3(t("what_if_result", lang)),
            html.P(
                t("what_if_text", lang).format(
                    kind=kind,
                    gained=what_if["gained_residents"],
                    buildings=what_if["gained_buildings"],
                    before=what_if["before"],
                    after=what_if["after"],
                ),
                id="coverage-whatif-text",
            ),
        ]
    elif sites is not None and not sites:
        panel = html.P(t("sites_none", lang))
    return fig, tiles, banner, css, tier_text, panel
