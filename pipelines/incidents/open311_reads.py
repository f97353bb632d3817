"""The reads of Open311's GET requests: a page of incidents with their assignment, grid, department and the
time of their latest history row, chosen so that neither the 10M incidents nor the 58M history rows are scanned."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from pipelines.incidents.repository import INCIDENT_FIELDS, INCIDENT_JOINS


def open311_requests(
    con: duckdb.DuckDBPyConnection,
    start: dt.datetime,
    end: dt.datetime,
    service_codes: list[str] | None,
    statuses: list[str] | None,
    ids: list[str] | None,
    limit: int,
    offset: int = 0,
) -> pd.DataFrame:
    """Incidents for Open311's GET requests: by time window, services, open/closed statuses or ids (a page of them).

    The page is chosen on ``incidents`` alone (a top-N over a time-pruned scan), then read joined to its
    assignment, grid and department; ``updated_at`` is the time of its latest history row (:func:`_last_events`).
    """
    where, params = ["reported_at >= ? AND reported_at <= ?"], [start, end]
    if ids:
        where, params = [f"incident_id IN ({', '.join('?' * len(ids))})"], list(ids)
    if service_codes:
        where.append(f"category IN ({', '.join('?' * len(service_codes))})")
        params += service_codes
    if statuses:
        where.append(f"status IN ({', '.join('?' * len(statuses))})")
        params += statuses
    page = con.execute(
        f"SELECT incident_id, reported_at FROM incidents WHERE {' AND '.join(where)}"
        " ORDER BY reported_at DESC, incident_id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    times = [t for _, t in page if t is not None]
    span, bounds = ("i.reported_at >= ? AND i.reported_at <= ?", [min(times), max(times)]) if times else ("TRUE", [])
    if len(times) < len(page):  # a report without a time: no bound
        span, bounds = "TRUE", []
    frame = con.execute(  # the page's time span bounds the scan; its ids pick its rows
        f"SELECT {INCIDENT_FIELDS} FROM {INCIDENT_JOINS} WHERE {span}"
        " AND i.incident_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY i.reported_at DESC, i.incident_id DESC",
        [*bounds, [incident_id for incident_id, _ in page]],
    ).df()
    return frame.assign(updated_at=_last_events(con, frame))


def _last_events(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> pd.Series:
    """The latest history time of each incident of a page (NaT if it has none).

    Every incident's history starts with its report at ``reported_at``, so its latest row is at or after the
    page's earliest report: the look-up reads only the history since then (time order), not all of it; an
    incident with no row there (history older than its report) is looked up again without the bound.
    """
    if frame.empty:
        return pd.Series([], dtype="datetime64[us]")
    ids = frame["incident_id"].tolist()
    query = (
        "SELECT incident_id, max(occurred_at) AS t FROM incident_events"
        " WHERE occurred_at >= ? AND incident_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY 1"
    )
    earliest = frame["reported_at"].min()
    bound = dt.datetime.min if pd.isna(earliest) else earliest.to_pydatetime()
    last = dict(con.execute(query, [bound, ids]).fetchall())
    missing = [i for i in ids if i not in last]
    if missing and bound != dt.datetime.min:
        last.update(con.execute(query, [dt.datetime.min, missing]).fetchall())
    return pd.Series(pd.to_datetime([last.get(i) for i in ids]), index=frame.index)
