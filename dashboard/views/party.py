"""The party page's view model (党建引领): the 红色地图, the ranked table, the 红黑榜, the people of a unit, exports.

Names of secretaries and 楼栋长 are shown whole only to dispatchers and admins (``reveal``); phones are
always masked.  The indicator figures come from :mod:`pipelines.party.indicators`.
"""

from __future__ import annotations

import pandas as pd
from dash import html

from dashboard import exports, figures, party_figures
from dashboard.i18n import org_type_label, t, term_label
from dashboard.models.shapes import ROAD_LEVELS
from dashboard.queries import CHILD
from dashboard.views.fit import fitted
from pipelines import auth
from pipelines.masking import mask_name, mask_phone
from pipelines.party.indicators import BY_KEY, Indicator, indicators_for, red_black

DEFAULT_INDICATOR = "grid_org_coverage"
SIZE_COLUMNS = (("grids", "party_grids"), ("population", "population"), ("households", "households"))


def may_reveal(role: str | None) -> bool:
    """Whole names for dispatchers and admins; viewers see 王**."""
    return auth.allows(role, "dispatcher")


def indicator_key(value: str | None, level: str) -> str:
    """A known indicator of the table's level (the default for anything else, e.g. a bad ?ind=)."""
    keys = {i.key for i in indicators_for(table_scope(level, None)[0])}
    return value if value in keys else DEFAULT_INDICATOR


def indicator_options(level: str, lang: str) -> list[dict]:
    """Dropdown options; ``title`` is the browser's hover text: the indicator's definition."""
    table_level = table_scope(level, None)[0]
    return [{"label": i.label(lang), "value": i.key, "title": i.definition(lang)} for i in indicators_for(table_level)]


def definition(key: str, lang: str) -> str:
    indicator = BY_KEY[key]
    if lang == "en":
        unit = indicator.unit_label(lang)
        return f"{indicator.label(lang)}{f' ({unit})' if unit else ''}: {indicator.definition(lang)}"
    return f"{indicator.label(lang)}（{indicator.unit}）：{indicator.definition(lang)}"


def table_scope(level: str, parent: str | None) -> tuple[str, str | None]:
    """(level of the table's rows, parent code): a unit's children; a grid shows its sibling grids."""
    if level == "grid":
        return "grid", parent
    return CHILD[level], None


def unit_table(data, level: str, code: str | None) -> tuple[str, pd.DataFrame]:
    """(row level, indicator table) for the unit on screen."""
    parent = data.shapes.parent(level, code)[1] if level == "grid" else code
    row_level = table_scope(level, parent)[0]
    return row_level, data.party.table(row_level, parent if level != "city" else None)


def shown(value, indicator: Indicator) -> str:
    """A figure as the page prints it: percentages ×100 with one decimal, others with up to two."""
    if value is None or pd.isna(value):
        return "—"
    return f"{100 * value:.1f}%" if indicator.percent else f"{value:,.2f}".rstrip("0").rstrip(".")


def _rounded(values: pd.Series, indicator: Indicator) -> pd.Series:
    values = pd.to_numeric(values, errors="coerce")
    return (100 * values).round(1) if indicator.percent else values.round(2)


def table_rows(table: pd.DataFrame, row_level: str, key: str, lang: str) -> tuple[list[dict], list[dict], dict]:
    """Records, columns and header tooltips of the ranked table (ranked by ``key``, best first)."""
    chosen = BY_KEY[key]
    ordered = table.sort_values(key, ascending=not chosen.higher_is_better, na_position="last", kind="stable")
    out = pd.DataFrame({"rank": range(1, len(ordered) + 1), "name": ordered["name"], "code": ordered["code"]})
    columns = [
        {"name": t("col_rank", lang), "id": "rank", "type": "numeric"},
        {"name": t("col_name", lang), "id": "name"},
        {"name": t("col_code", lang), "id": "code"},
    ]
    for column, label in SIZE_COLUMNS:
        out[column] = ordered[column].to_numpy()
        columns.append({"name": t(label, lang), "id": column, "type": "numeric"})
    tooltips = {}
    for indicator in indicators_for(row_level):
        out[indicator.key] = _rounded(ordered[indicator.key], indicator).to_numpy()
        unit = "%" if indicator.percent else indicator.unit_label(lang)
        name = f"{indicator.label(lang)} ({unit})" if unit else indicator.label(lang)
        columns.append({"name": name, "id": indicator.key, "type": "numeric"})
        tooltips[indicator.key] = indicator.definition(lang)
    out = out.astype(object).where(out.notna(), None)
    return out.to_dict("records"), columns, tooltips


def boards(table: pd.DataFrame, row_level: str, key: str, lang: str) -> list:
    """红榜 and 黑榜 for the chosen indicator: the best and worst five units with a value."""
    if key not in {i.key for i in indicators_for(row_level)} or table.empty:
        return [html.P(t("party_no_data", lang))]
    board = red_black(table, row_level)
    board = board[board["indicator"] == key]
    indicator = BY_KEY[key]
    blocks = []
    for which, css in (("red", "gt-board-red"), ("black", "gt-board-black")):
        rows = board[board["board"] == which]
        items = [
            html.Li([html.Span(f"{r.rank}. {r.name}"), html.B(shown(r.value, indicator))], id=f"party-{which}-{r.code}")
            for r in rows.itertuples()
        ]
        blocks.append(
            html.Div(
                [html.H4(t(f"party_{which}", lang)), html.Ol(items or [html.Li(t("party_none", lang))])],
                className=f"gt-board {css}",
                id=f"party-board-{which}",
            )
        )
    return blocks


def drill_target(level: str, code: str | None) -> dict | None:
    """The unit a click on a row or an area of ``level``'s map opens (None below grid level)."""
    if level == "grid" or not code:
        return None
    return {"level": CHILD[level], "code": code}


def clicked_unit(click: dict | None, level: str) -> dict | None:
    if not click:
        return None
    custom = click["points"][0].get("customdata") or []
    if len(custom) < 3 or custom[2] != "unit":
        return None
    return drill_target(level, custom[0])


def export(table: pd.DataFrame, row_level: str, key: str, which: str, lang: str, stamp: str) -> tuple[bytes, str]:
    """(content, file name): the ranked table with headers in the page's language, formulas neutralised."""
    records, columns, _ = table_rows(table, row_level, key, lang)
    frame = pd.DataFrame(records, columns=[c["id"] for c in columns])
    frame.columns = [c["name"] for c in columns]
    name = f"gridtwin-party-{row_level}-{stamp}"
    if which == "xlsx":
        return exports.xlsx_bytes(frame, "party"), f"{name}.xlsx"
    return exports.csv_bytes(frame), f"{name}.csv"


def _name(value, reveal: bool) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return t("party_none", "zh")
    return str(value) if reveal else mask_name(value)


def _org_hover(orgs: pd.DataFrame, reveal: bool, lang: str) -> pd.Series:
    secretary = [_name(v, reveal) for v in orgs["secretary_name"]]
    members = orgs["members"].fillna(0).astype(int).astype(str)
    return (
        "<b>" + orgs["name"] + "</b><br>" + t("party_secretary", lang) + " " + pd.Series(secretary, index=orgs.index)
        + "<br>" + t("party_members", lang) + " " + members
    )  # fmt: skip


def _buildings(data, level: str, code: str | None, reveal: bool, lang: str) -> pd.DataFrame | None:
    if level not in ("community", "grid"):
        return None
    return data.party.head_buildings(level, code, (reveal, lang), lambda f: _head_states(f, reveal, lang))


def _head_states(frame: pd.DataFrame, reveal: bool, lang: str) -> pd.DataFrame:
    state = pd.Series("head", index=frame.index).where(frame["head_name"].notna(), "none")
    state = state.where(~frame["party_member"], "party")
    heads = [_name(v, reveal) if isinstance(v, str) else t("party_none", lang) for v in frame["head_name"]]
    phones = [mask_phone(p) if isinstance(p, str) else "" for p in frame["head_phone"]]
    hover = [
        f"<b>{n}</b><br>{t('party_head', lang)} {h} {p}" for n, h, p in zip(frame["name"], heads, phones, strict=True)
    ]
    return frame.assign(head_state=state, hover=hover)


def build_map(
    data, tile_url, level: str, code: str | None, key: str, table, reveal: bool, lang: str, viewport: dict | None = None
) -> dict:
    shapes = data.shapes
    children = fitted(shapes.children(level, code), viewport)
    indicator = BY_KEY[key]
    units = None
    if level != "grid" and table is not None and key in table:
        values = pd.to_numeric(table[key], errors="coerce")
        units = table[["code", "name"]].assign(
            value=_rounded(values, indicator), shown=[shown(v, indicator) for v in values]
        )
    orgs = data.party.org_points(
        level, code, (reveal, lang), lambda o: o.assign(hover=_org_hover(o, reveal, lang)) if len(o) else None
    )
    centres = data.party.centres(level, code)
    centres = centres.assign(hover=centres["name"]) if len(centres) else None
    areas = service_area_layer(data, level, code, centres, lang)
    outline = figures.outline_layer(children["outline"], "#ff4d5e", 2.5) if children["outline"] else []
    if level == "grid":
        outline += figures.outline_layer(figures.child_outlines(children), "#8a5a60", 0.6)
    return party_figures.party_map(
        lang=lang,
        children=children,
        units=units,
        label=indicator.label(lang),
        higher_is_better=indicator.higher_is_better,
        orgs=orgs,
        centres=centres,
        areas=areas,
        buildings=_buildings(data, level, code, reveal, lang),
        outline_layers=outline,
        roads=shapes.roads(children["bounds"]) if level in ROAD_LEVELS else None,
        tile_url=tile_url,
        uirevision=f"{level}:{code}",
    )


def service_area_layer(data, level: str, code: str | None, centres: pd.DataFrame | None, lang: str) -> dict | None:
    """The 15分钟党群服务圈: one walking area per centre in view (street and below; hover: its name), or the
    covered area of a district / the city; None before a coverage run."""
    features = data.party.service_areas(level, code)
    if not features:
        return None
    ids = [f["id"] for f in features]
    names = dict(zip(centres["facility_id"], centres["name"], strict=True)) if centres is not None else {}
    if ids == ["covered"]:
        hover = [t("party_circle_covered", lang)]
    else:
        hover = [f"<b>{names.get(i, i)}</b><br>{t('party_circle', lang)}" for i in ids]
    return {"ids": ids, "geojson": {"type": "FeatureCollection", "features": features}, "hover": hover}


def people(data, level: str, code: str | None, reveal: bool, lang: str) -> list:
    """The organisations sitting in the unit itself (a grid: its whole party side, as the grid panel shows it)."""
    if level == "grid":
        return party_block(data, code, reveal, lang)
    if level == "city":
        return []
    orgs = data.party.unit_orgs(level, code)
    items = [
        html.Li(
            f"{org_type_label(r.type, lang)} {r.name} · {t('party_secretary', lang)} {_name(r.secretary_name, reveal)}"
        )
        for r in orgs.itertuples()
    ]
    return [html.H4(t("party_unit_orgs", lang)), html.Ul(items or [html.Li(t("party_none", lang))], id="party-people")]


def party_block(data, grid_code: str | None, reveal: bool, lang: str) -> list:
    """A grid's 党支部 and secretary, members on duty, 楼栋长 and service team (names masked unless ``reveal``)."""
    side = data.party.grid_side(grid_code, reveal)
    branch = [
        html.Li(f"{b['name']} · {t('party_secretary', lang)} {b['secretary']} {b['secretary_phone']}")
        for b in side["branches"]
    ]
    joined = ", " if lang == "en" else "、"
    duty = [
        html.Li(f"{joined.join(term_label(r, lang) for r in m['roles'])} {m['name']} {m['phone']}")
        for m in side["on_duty"]
    ]
    heads = [
        html.Li(f"{h['building']} {h['name']}{' ★' if h['party_member'] else ''} {h['phone']}")
        for h in side["building_heads"]
    ]
    team = [html.Li(f"{m['team_name']} · {m['duty']} {m['name']} {m['phone']}") for m in side["team"]]
    none = [html.Li(t("party_none", lang))]
    return [
        html.H4(t("party_branch", lang)),
        html.Ul(branch or none, className="gt-workers", id="party-people"),
        html.H4(t("party_on_duty", lang)),
        html.Ul(duty or none, className="gt-workers"),
        html.H4(t("party_heads", lang)),
        html.Ul(heads or none, className="gt-workers"),
        html.H4(t("party_team", lang)),
        html.Ul(team or none, className="gt-workers"),
    ]  # fmt: skip


def build_view(
    data, tile_url, level: str, code: str | None, key: str, role: str | None, lang: str, viewport: dict | None = None
) -> tuple:
    """Map (fitted to the map's ``viewport``), table records, columns, header tooltips, 红黑榜, people, definition
    (also used by the benchmark)."""
    row_level, table = unit_table(data, level, code)
    key = key if key in {i.key for i in indicators_for(row_level)} else DEFAULT_INDICATOR
    reveal = may_reveal(role)
    unit = (level, code, key, lang)
    size = ((viewport or {}).get("width"), (viewport or {}).get("height"))
    records, columns, tooltips = data.party.memo(("rows", *unit), lambda: table_rows(table, row_level, key, lang))
    return (
        data.party.memo(
            ("map", tile_url, *unit, reveal, size),
            lambda: build_map(data, tile_url, level, code, key, table, reveal, lang, viewport),
        ),
        records,
        columns,
        tooltips,
        data.party.memo(("boards", *unit), lambda: boards(table, row_level, key, lang)),
        people(data, level, code, reveal, lang),
        definition(key, lang),
    )
