"""The planner page's view model (服务圈分析): the map, tiles, method banner, what-if panel, tables, exports."""

from __future__ import annotations

import h3
import pandas as pd
from dash import html

from dashboard import coverage_figures, figures
from dashboard.components.tiles import kpi_tile
from dashboard.exports import csv_bytes, xlsx_bytes
from dashboard.i18n import facility_label, t
from dashboard.models import hex_resolution
from dashboard.models.shapes import ROAD_LEVELS
from dashboard.views.fit import fitted
from pipelines.auth import Actor, permission_allowed
from pipelines.coverage import METHOD_LABELS, METHOD_LABELS_EN

UNREACHED_CAP = 2.0
"""On the hexagon map an unreached building counts as this many times its life-circle distance."""
SITE_COLUMNS = (("rank", "col_rank"), ("gain", "col_gain"), ("cumulative", "col_cumulative"))
SITE_COLUMNS += (("lon", "col_lon"), ("lat", "col_lat"))


def _pct(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{100 * value:.1f}"


def may_recompute(role: str | None) -> bool:
    """Recomputing writes the coverage tables: the one permission check decides who may."""
    return permission_allowed(Actor("user", role=role), "coverage.recompute")


def facility_types(data) -> list[str]:
    return data.planner.types()["type"].tolist()


def selection(click: dict | None) -> dict | None:
    """What a click on the map selects: a facility (its service area) or a site (a what-if); None: nothing."""
    if not click:
        return None
    point = click["points"][0]
    custom = point.get("customdata") or []
    if not custom:
        return None
    if custom[0] == "facility":
        return {"kind": "facility", "id": custom[1]}
    if custom[0] == "hex":
        lat, lon = h3.cell_to_latlng(h3.int_to_str(int(custom[1], 16)))
        return {"kind": "site", "lon": lon, "lat": lat}
    if custom[0] in ("building", "site"):
        return {"kind": "site", "lon": point["lon"], "lat": point["lat"]}
    return None


def suggested_rows(data, kind: str, level: str, code: str | None, k, step=None) -> list[dict]:
    sites = data.planner.suggest_sites(kind, level, code, int(min(max(k or 3, 1), 10)), step)
    return sites.assign(lon=sites["lon"].round(6), lat=sites["lat"].round(6)).to_dict("records")


def start_suggestion(data, kind: str, level: str, code: str | None, k) -> str:
    """Suggested sites as a background job (a district or the city takes one step per street)."""
    return data.planner.jobs.start(lambda step: suggested_rows(data, kind, level, code, k, step))


def suggestion_progress(data, job_id: str | None, lang: str) -> tuple[str, list[dict] | None, bool]:
    """(progress text, the sites once done, whether to keep polling) of a suggestion job."""
    status = data.planner.jobs.status(job_id)
    if status is None:
        return "", None, False
    if status["state"] == "running":
        total = max(status["total"], 1)
        text = t("job_progress", lang).format(done=status["done"], total=total, s=status["elapsed_s"])
        return text, None, True
    if status["state"] == "done":
        return "", status["result"], False
    if status["state"] == "cancelled":
        return t("job_cancelled", lang), None, False
    return t("job_failed", lang).format(error=status["error"]), None, False


def area_table(data, level: str, code: str | None, lang: str) -> tuple[pd.DataFrame, list[dict]]:
    """Children of the unit with residents, completeness and % covered per facility type."""
    areas, by_type = data.planner.areas(level, code)
    types = data.planner.types()
    shares = by_type.pivot(index="code", columns="type", values="share")
    table = areas.set_index("code")[["name", "residents", "types_in_reach", "complete_share"]].join(shares)
    table = table.reset_index()
    table["types_in_reach"] = table["types_in_reach"].round(1)
    table["complete_share"] = (100 * table["complete_share"]).round(1)
    for kind in types["type"]:
        if kind in table:
            table[kind] = (100 * table[kind]).round(1)
    table[t("col_method", lang)] = _method(types["method"].iloc[0], lang) if len(types) else ""
    columns = [
        {"name": t("col_name", lang), "id": "name"},
        {"name": t("col_code", lang), "id": "code"},
        {"name": t("residents", lang), "id": "residents"},
        {"name": t("types_in_reach", lang), "id": "types_in_reach"},
        {"name": t("complete_share", lang), "id": "complete_share"},
        *[{"name": f"{facility_label(k, lang)} %", "id": k} for k in types["type"] if k in table],
        {"name": t("col_method", lang), "id": t("col_method", lang)},
    ]
    return table, columns


def _method(code: str, lang: str) -> str:
    """How the distances were measured (walking network or straight line), in the page's language."""
    return (METHOD_LABELS_EN if lang == "en" else METHOD_LABELS)[code]


def area_export(data, level: str, code: str | None, lang: str) -> pd.DataFrame:
    """The area table with its column names in the page's language."""
    frame, columns = area_table(data, level, code, lang)
    frame = frame[[c["id"] for c in columns]]
    frame.columns = [c["name"] for c in columns]
    return frame


def uncovered_export(data, level: str, code: str | None, kind: str, lang: str) -> pd.DataFrame:
    frame = data.planner.uncovered(level, code, kind, limit=1_000_000)
    types = data.planner.types().set_index("type")
    method = _method(types.loc[kind, "method"], lang) if kind in types.index else ""
    return pd.DataFrame(
        {
            "building_id": frame["building_id"],
            t("col_name", lang): frame["name"],
            t("col_community", lang): frame["community"],
            t("residents", lang): frame["residents"],
            t("col_distance", lang): frame["distance_m"].round(0),
            t("col_lon", lang): frame["lon"],
            t("col_lat", lang): frame["lat"],
            t("facility_type", lang): facility_label(kind, lang),
            t("col_method", lang): method,
        }
    )


def export(data, level, code, kind: str, which: str, lang: str, stamp: str) -> tuple[bytes, str]:
    """(content, file name) of an export: ``which`` is csv or xlsx (the area table) or uncovered (buildings)."""
    if which == "uncovered":
        frame = uncovered_export(data, level, code, kind, lang)
        return csv_bytes(frame), f"gridtwin-uncovered-{kind}-{stamp}.csv"
    frame = area_export(data, level, code, lang)
    name = f"gridtwin-coverage-{level}-{stamp}"
    if which == "xlsx":
        return xlsx_bytes(frame, "coverage"), f"{name}.xlsx"
    return csv_bytes(frame), f"{name}.csv"


def _map(children, tile_url, lang, uirevision, outline, **layers) -> dict:
    base = {"cells": None, "speed_m_per_min": 60, "tier_minutes": 15, "facilities": None, "uncovered": None}
    base.update(area=None, what_if=None, sites=None, roads=None)
    return coverage_figures.coverage_map(
        lang=lang,
        children=children,
        outline_layers=outline,
        tile_url=tile_url,
        uirevision=uirevision,
        **{**base, **layers},
    )


def _tiles(data, level, code, cells: pd.DataFrame, facilities: int, lang: str) -> list:
    residents = cells["residents"].sum()
    covered = (cells["residents"] * cells["share"].fillna(0)).sum()
    areas, _ = data.planner.areas(level, code)
    completeness = (areas["types_in_reach"] * areas["residents"]).sum() / max(areas["residents"].sum(), 1)
    required = int(areas["required_types"].max()) if len(areas) else 0
    share = covered / residents if residents else None
    return [
        kpi_tile(
            "coverage-kpi-share", t("kpi_covered", lang), _pct(share), "%", alert=share is not None and share < 0.5
        ),
        kpi_tile(
            "coverage-kpi-uncovered", t("kpi_uncovered", lang), f"{int(residents - covered):,}", t("people", lang)
        ),
        kpi_tile("coverage-kpi-complete", t("kpi_completeness", lang), f"{completeness:.1f}", f"/{required}"),
        kpi_tile("coverage-kpi-facilities", t("kpi_facilities", lang), f"{facilities:,}", ""),
    ]


def _banner(run: dict, lang: str) -> tuple[list, str]:
    straight = run["method"] == "straight_line"
    banner = [
        t("method_straight_line" if straight else "method_network", lang),
        f" · {t('walk_speed', lang)} {float(run['speed']):g} {t('m_per_min', lang)}",
        f" · {t('computed_at', lang)} {run['run_at']:%Y-%m-%d %H:%M}",
    ]
    if run["stale"]:
        banner.append(html.B(" · " + t("stale", lang)))
    return banner, "gt-method gt-method-warn" if straight or run["stale"] else "gt-method"


def _tier_text(tier: float, threshold: float, straight: bool, lang: str) -> str:
    text = f"{tier:g}{t('minutes_suffix', lang)} {t('life_circle', lang)} · ≤{threshold:,.0f} m"
    return text + f" ({t('straight_line', lang)})" if straight else text


def _what_if_panel(kind: str, what_if: dict | None, sites, lang: str):
    if what_if is not None:
        text = t("what_if_text", lang).format(
            kind=kind,
            gained=what_if["gained_residents"],
            buildings=what_if["gained_buildings"],
            before=what_if["before"],
            after=what_if["after"],
        )
        return [html.H3(t("what_if_result", lang)), html.P(text, id="coverage-whatif-text")]
    if sites is not None and not sites:
        return html.P(t("sites_none", lang))
    return None


def build_view(data, tile_url, level, code, kind, selected, sites, lang, viewport: dict | None = None) -> tuple:
    """Map (fitted to the map's ``viewport``), KPI tiles, method banner, tier label and what-if panel (also used
    by the benchmark)."""
    planner, shapes = data.planner, data.shapes
    run = planner.run()
    children = fitted(shapes.children(level, code), viewport)
    outline = figures.outline_layer(children["outline"], "#28c2ff", 2.5) if children["outline"] else []
    outline += figures.outline_layer(figures.child_outlines(children), "#6fb7ff", 0.8)
    types = planner.types().set_index("type") if run else pd.DataFrame()
    if run is None or kind not in types.index:
        empty = _map(children, tile_url, lang, f"{level}:{code}", outline)
        return empty, [], t("no_coverage", lang), "gt-method gt-method-warn", "", None
    threshold, tier = float(types.loc[kind, "threshold_m"]), float(types.loc[kind, "tier_minutes"])
    speed = float(run["speed"])
    res = hex_resolution(children["zoom"]) - 1
    cells = planner.access_cells(level, code, kind, res, UNREACHED_CAP * threshold, speed)
    facilities = shapes.facilities(level, code, kind)
    area = what_if = None
    if selected and selected.get("kind") == "facility":
        area = planner.service_area(selected["id"], kind)
    elif selected and selected.get("kind") == "site":
        what_if = planner.what_if(kind, selected["lon"], selected["lat"], level, code)
    fig = _map(
        children,
        tile_url,
        lang,
        f"{level}:{code}:{kind}",
        outline,
        cells=cells,
        speed_m_per_min=speed,
        tier_minutes=threshold / speed,
        facilities=facilities,
        uncovered=planner.uncovered(level, code, kind) if level in ROAD_LEVELS else None,
        area=area,
        what_if=what_if,
        sites=pd.DataFrame(sites) if sites else None,
        roads=shapes.roads(children["bounds"]) if level in ROAD_LEVELS else None,
    )
    banner, css = _banner(run, lang)
    tier_text = _tier_text(tier, threshold, run["method"] == "straight_line", lang)
    tiles = _tiles(data, level, code, cells[0], planner.facility_count(level, code, kind), lang)
    return fig, tiles, banner, css, tier_text, _what_if_panel(kind, what_if, sites, lang)
