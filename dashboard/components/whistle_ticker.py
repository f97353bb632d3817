"""吹哨超时: the overdue whistles of a unit on the command centre's ticker (a department that has not reported,
or not resolved, by its deadline).  An item opens its incident in the incident panel, like the other lists."""

from __future__ import annotations

import datetime as dt
import functools

import pandas as pd
from dash import html

from dashboard.components.panels import ITEMS_KEPT, LINK, overdue_text, rows_of
from dashboard.i18n import t
from dashboard.models.live import KEPT_S
from pipelines.store.governance import overdue_among, waiting_columns, waiting_whistles
from pipelines.vocabulary import LEVEL_TABLES

TICKER_WHISTLES = 6
_TITLES = {"zh": ("吹哨超时", "未报到", "未办结"), "en": ("Overdue whistles", "not reported", "not resolved")}


def overdue_for(data, level: str, code: str | None, now: dt.datetime) -> pd.DataFrame:
    """A unit's overdue whistles at ``now``, most overdue first: cut from the city's waiting whistles, which are
    read once and kept while only the clock moves; a write applies its incidents' whistles to them (every whistle
    step adds an event to its incident, so the incidents a write moved hold every whistle it changed)."""
    column = LEVEL_TABLES[level][1] if level in LEVEL_TABLES else None
    waiting = data.shared.get(
        "waiting-whistles",
        (),
        lambda: waiting_columns(data.run(waiting_whistles)),
        None,
        KEPT_S,
        lambda kept, ids: waiting_columns(data.run(waiting_whistles, ids), kept, ids),
    )
    return overdue_among(waiting, now, TICKER_WHISTLES, column, code)


def whistle_list(frame: pd.DataFrame, now: dt.datetime, lang: str) -> list:
    """The list's heading and items (nothing when no whistle is overdue)."""
    if frame.empty:
        return []
    title = _TITLES["en" if lang == "en" else "zh"][0]
    rows = rows_of(frame, ("whistle_id", "incident_id", "department", "late_for", "late_since"))
    items = [_item(w, i, dep, late_for, overdue_text(now - since, lang), lang) for w, i, dep, late_for, since in rows]
    return [html.H3(title), html.Ul(items, className=f"gt-tick-list gt-tick-{lang}", id="command-ticker-whistles")]


@functools.lru_cache(maxsize=ITEMS_KEPT)
def _item(whistle_id: str, incident_id: str, department: str, late_for: str, late: str, lang: str) -> html.Li:
    """One whistle's line, built once while it reads the same (an incident whistled to two departments has two:
    each its own id)."""
    unreported, unresolved = _TITLES["en" if lang == "en" else "zh"][1:]
    return html.Li(
        className="gt-tick gt-late",
        id={"type": LINK, "id": incident_id, "list": f"whistle-{whistle_id}"},
        n_clicks=0,
        title=t("click_incident", lang),
        **{"data-id": incident_id},
        children=[  # the same columns as the other lists (panels._ticker_item), so they line up
            html.Span("", className="gt-badge"),
            html.Span(late, className="gt-tick-time"),
            html.Span(department, className="gt-tick-cat", title=department),
            html.Span(unreported if late_for == "report" else unresolved, className="gt-tick-where"),
            html.Span("", className="gt-status"),
            html.Span(incident_id, className="gt-tick-id"),
        ],
    )
