"""The command center's side panels as components: KPI tiles, the incident ticker, the grid detail."""

from __future__ import annotations

import datetime as dt
import functools

import pandas as pd
from dash import html

from dashboard.components.tiles import fmt, kpi_tile
from dashboard.i18n import category_label, status_label, t, term_label

LINK = "command-incident-link"
"""Pattern id type of every clickable incident (the incident panel listens to all of them)."""
ITEMS_KEPT = 4096
"""Ticker lines kept built (a few dozen per unit on screen)."""


def kpi_tiles(values: dict, lang: str) -> list:
    return [
        kpi_tile("command-kpi-reported", t("reported_today", lang), fmt(values["reported_today"])),
        kpi_tile("command-kpi-resolved", t("resolved_today", lang), fmt(values["resolved_today"])),
        kpi_tile("command-kpi-closure", t("closure_rate", lang), fmt(values["closure_rate"], 1), "%"),
        kpi_tile("command-kpi-overdue", t("overdue", lang), fmt(values["overdue"]), alert=bool(values["overdue"])),
        kpi_tile("command-kpi-handling", t("handling_h", lang), fmt(values["handling_h"], 1), t("hours", lang)),
        kpi_tile(
            "command-kpi-satisfaction", t("satisfaction", lang), fmt(values["satisfaction"], 2), t("points", lang)
        ),
    ]


def overdue_text(delta: dt.timedelta, lang: str) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours >= 24:
        return t("overdue_days", lang).format(n=hours // 24)
    return t("overdue_hours", lang).format(n=hours)


def place_parts(community: str | None, grid: str | None) -> tuple[str, str]:
    """(community, grid) for the ticker, the grid without repeating the community's name (grid names usually start
    with it: 第3网格 instead of 翠苑一区社区第3网格)."""
    community, grid = community or "", grid or ""
    if community and grid.startswith(community) and len(grid) > len(community):
        grid = grid[len(community) :].lstrip(" ·-_")
    return community, grid


def place(community: str | None, grid: str | None) -> str:
    """Where an incident is: 翠苑一区社区 · 第3网格 (see :func:`place_parts`)."""
    community, grid = place_parts(community, grid)
    return f"{community} · {grid}" if community and grid else community or grid


def _where(community: str | None, grid: str | None) -> list:
    """The ticker's place: in a narrow column the community gives way (ellipsis), the grid stays whole."""
    community, grid = place_parts(community, grid)
    if not (community and grid):
        return [community or grid]
    return [html.Span(community, className="gt-where-c"), html.Span(f" · {grid}", className="gt-where-g")]


def report_time(reported_at, now: dt.datetime) -> str:
    """When a report came in, as short as the ticker's column: the time today, the date (月-日) before today."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return f"{reported_at:%H:%M}" if reported_at >= today else f"{reported_at:%m-%d}"


_ITEM_COLUMNS = ("incident_id", "category", "status", "community", "grid", "reported_at", "due_at")


def _ticker_items(frame: pd.DataFrame, late: bool, now: dt.datetime, fresh: dt.datetime, lang: str) -> list:
    """The lines of one list (its rows read as plain lists: ``itertuples`` is slow on Arrow-backed columns)."""
    items = []
    for incident_id, category, status, community, grid, reported_at, due_at in rows_of(frame, _ITEM_COLUMNS):
        is_new = not late and reported_at >= fresh
        when = overdue_text(now - due_at, lang) if late else report_time(reported_at, now)
        items.append(_item(incident_id, category, status, community, grid, reported_at, when, is_new, late, lang))
    return items


def rows_of(frame: pd.DataFrame, columns) -> zip:
    """The rows of a small frame's ``columns`` as tuples of Python values."""
    return zip(*(frame[c].tolist() for c in columns), strict=True)


@functools.lru_cache(maxsize=ITEMS_KEPT)
def _item(incident_id, category, status, community, grid, reported_at, when: str, is_new: bool, late: bool, lang: str):
    """One ticker line: built once while what it shows stays the same (a refresh redraws mostly the same lines;
    the components are only read when the answer is written)."""
    return html.Li(
        className="gt-tick" + (" gt-new" if is_new else "") + (" gt-late" if late else ""),
        id={"type": LINK, "id": incident_id, "list": "late" if late else "new"},
        n_clicks=0,
        title=t("click_incident", lang),
        **{"data-id": incident_id},
        children=[
            html.Span(t("new", lang) if is_new else "", className="gt-badge"),  # always there: columns align
            html.Span(when, className="gt-tick-time", title=f"{reported_at:%Y-%m-%d %H:%M}"),
            html.Span(category_label(category, lang), className="gt-tick-cat", title=category_label(category, lang)),
            html.Span(_where(community, grid), className="gt-tick-where", title=f"{community} {grid}"),
            html.Span(status_label(status, lang), className=f"gt-status gt-status-{status}"),
            html.Span(incident_id, className="gt-tick-id"),
        ],
    )


def ticker_lists(newest: pd.DataFrame, overdue: pd.DataFrame, now: dt.datetime, fresh: dt.datetime, lang: str):
    """The newest incidents (reported after ``fresh`` flagged new) and the most overdue ones."""
    return [
        html.H3(t("newest", lang)),
        html.Ul(
            _ticker_items(newest, False, now, fresh, lang),
            className=f"gt-tick-list gt-tick-{lang}",
            id="command-ticker-newest",
        ),
        html.H3(t("overdue_list", lang)),
        html.Ul(
            _ticker_items(overdue, True, now, fresh, lang),
            className=f"gt-tick-list gt-tick-{lang}",
            id="command-ticker-overdue",
        ),
        *([] if len(overdue) else [html.P(t("no_overdue", lang), className="gt-tick-none")]),
    ]


def grid_panel(detail: tuple, lang: str, mask_phone, mask_name=str, party: list | None = None):
    """A grid's facts, its workers (names through ``mask_name``, phones through ``mask_phone``), its party
    side (党支部 and secretary, members on duty, 楼栋长, service team: already masked) and its open incidents."""
    grid, workers, incidents = detail
    if grid.empty:
        return None
    g = grid.iloc[0]
    facts = [
        (t("population", lang), fmt(g["population"])),
        (t("households", lang), fmt(g["households"])),
        (t("buildings", lang), fmt(g["buildings"])),
    ]
    open_items = [
        html.Li(
            f"{r.reported_at:%m-%d %H:%M} {category_label(r.category, lang)} {status_label(r.status, lang)}"
            + (" ⚠" if r.overdue else ""),
            className="gt-late" if r.overdue else None,
            id={"type": LINK, "id": r.incident_id, "list": "grid"},
            n_clicks=0,
        )
        for r in incidents.itertuples()
    ]
    return [
        html.H3(f"{t('grid_detail', lang)} · {g['name']}"),
        html.Div([html.Div([html.Small(k), html.B(v)], className="gt-fact") for k, v in facts], className="gt-facts"),
        html.H4(t("workers", lang)),
        html.Ul(
            [
                html.Li(f"{term_label(w.role, lang)} {mask_name(w.name)} {mask_phone(w.phone)}", className="gt-worker")
                for w in workers.itertuples()
            ],
            className="gt-workers",
        ),
        html.Div(party or [], className="gt-grid-party", id="command-grid-party"),
        html.H4(f"{t('open_incidents', lang)} ({len(incidents)})"),
        html.Ul(open_items or [html.Li(t("no_open", lang))], className="gt-open-list"),
    ]


AFFAIR_ORDER = ("公事", "家事", "共事")


def duty_block(affairs: pd.DataFrame, workers: int, grids: int, lang: str) -> list:
    """Open incidents split by who handles them (公事 departments, 家事 residents, 共事 deliberation) as one
    proportional bar with counts, and the grid workers the unit's grids put on the ground."""
    counts = dict(zip(affairs["affair_class"], affairs["n"], strict=True))
    total = sum(counts.values())
    parts = [(k, int(counts.get(k, 0))) for k in AFFAIR_ORDER]
    bar = [
        html.Div(
            className=f"gt-affair-part gt-affair-{i}",
            style={"flexGrow": n},
            title=f"{term_label(k, lang)} {fmt(n)}",
        )
        for i, (k, n) in enumerate(parts)
        if n
    ]
    legend = [
        html.Div(
            [html.Span(className=f"gt-affair-dot gt-affair-{i}"), html.Span(term_label(k, lang)), html.B(fmt(n))],
            className="gt-affair-item",
            id=f"command-affair-{i}",
        )
        for i, (k, n) in enumerate(parts)
    ]
    return [
        html.H3([t("open_by_affair", lang), html.Small(fmt(total), className="gt-h-count")]),
        html.Div(bar, className="gt-affair-bar"),
        html.Div(legend, className="gt-affair-legend"),
        html.Div(
            [
                html.Div([html.Small(t("workers_on_duty", lang)), html.B(fmt(workers), id="command-workers")]),
                html.Div([html.Small(t("grids", lang)), html.B(fmt(grids))]),
            ],
            className="gt-duty-facts",
        ),
    ]
