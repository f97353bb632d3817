"""The command center's side panels as components: KPI tiles, the incident ticker, the grid detail."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from dash import html

from dashboard.components.tiles import fmt, kpi_tile
from dashboard.i18n import category_label, status_label, t

LINK = "command-incident-link"
"""Pattern id type of every clickable incident (the incident panel listens to all of them)."""


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


def _ticker_item(row, late: bool, now: dt.datetime, fresh: dt.datetime, lang: str) -> html.Li:
    is_new = not late and row.reported_at >= fresh
    when = f"{row.reported_at:%H:%M}" if not late else overdue_text(now - row.due_at, lang)
    return html.Li(
        className="gt-tick" + (" gt-new" if is_new else "") + (" gt-late" if late else ""),
        id={"type": LINK, "id": row.incident_id, "list": "late" if late else "new"},
        n_clicks=0,
        title=t("click_incident", lang),
        **{"data-id": row.incident_id},
        children=[
            html.Span(t("new", lang), className="gt-badge") if is_new else None,
            html.Span(when, className="gt-tick-time"),
            html.Span(category_label(row.category, lang), className="gt-tick-cat"),
            html.Span(f"{row.community or ''} · {row.grid or ''}", className="gt-tick-where"),
            html.Span(status_label(row.status, lang), className=f"gt-status gt-status-{row.status}"),
            html.Span(row.incident_id, className="gt-tick-id"),
        ],
    )


def ticker_lists(newest: pd.DataFrame, overdue: pd.DataFrame, now: dt.datetime, fresh: dt.datetime, lang: str):
    """The newest incidents (reported after ``fresh`` flagged new) and the most overdue ones."""
    return [
        html.H3(t("newest", lang)),
        html.Ul(
            [_ticker_item(r, False, now, fresh, lang) for r in newest.itertuples()],
            className="gt-tick-list",
            id="command-ticker-newest",
        ),
        html.H3(t("overdue_list", lang)),
        html.Ul(
            [_ticker_item(r, True, now, fresh, lang) for r in overdue.itertuples()],
            className="gt-tick-list",
            id="command-ticker-overdue",
        ),
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
            f"{r.reported_at:%m-%d %H:%M} {r.category} {status_label(r.status, lang)}" + (" ⚠" if r.overdue else ""),
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
                html.Li(f"{w.role} {mask_name(w.name)} {mask_phone(w.phone)}", className="gt-worker")
                for w in workers.itertuples()
            ],
            className="gt-workers",
        ),
        html.Div(party or [], className="gt-grid-party", id="command-grid-party"),
        html.H4(f"{t('open_incidents', lang)} ({len(incidents)})"),
        html.Ul(open_items or [html.Li(t("no_open", lang))], className="gt-open-list"),
    ]
