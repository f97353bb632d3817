"""The SQL the live pages read incidents with (hierarchy codes, incidents, KPIs, ranking), parameterised.

Shapes (names, polygons, buildings, roads, facilities) are read in :mod:`dashboard.shape_queries`, the
planner's reads in :mod:`dashboard.coverage_queries`; the store's own reads in :mod:`pipelines.store`.

A *unit* is one node of the hierarchy the page is looking at: ``("city", None)``,
``("district", code)``, ``("street", code)``, ``("community", code)`` or
``("grid", code)``.  Its *children* are the polygons the map shows.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from pipelines.incidents.recent import recent_since
from pipelines.store.loop_rollup import PART_SELECTS, day_split, signed_pieces
from pipelines.store.meta import REFERENCE_VERSION
from pipelines.vocabulary import DONE_SQL

LEVELS = ("city", "district", "street", "community", "grid")
CHILD = {"city": "district", "district": "street", "street": "community", "community": "grid", "grid": "building"}
CODE_COLUMN = {
    "district": "district_code",
    "street": "street_code",
    "community": "community_code",
    "grid": "grid_code",
    "building": "building_id",
}
TABLE = {
    "district": "districts",
    "street": "streets",
    "community": "communities",
    "grid": "grids",
    "building": "buildings",
}
PARENT_COLUMN = {
    "district": "district_code",
    "street": "street_code",
    "community": "community_code",
    "grid": "grid_code",
}

_DONE = DONE_SQL


def unit_filter(level: str, code: str | None, alias: str = "") -> tuple[str, list]:
    """SQL condition (and its parameters) restricting a table with hierarchy codes to a unit."""
    if level == "city" or code is None:
        return "TRUE", []
    return f"{alias}{CODE_COLUMN[level]} = ?", [code]


def unit_named(level: str, code: str | None, alias: str = "") -> tuple[str, dict]:
    """Like :func:`unit_filter` with a named ``$code`` parameter."""
    if level == "city" or code is None:
        return "TRUE", {}
    return f"{alias}{CODE_COLUMN[level]} = $code", {"code": code}


def reports_table(con: duckdb.DuckDBPyConnection, level: str, since: dt.datetime) -> str:
    """The table to read a unit's incidents reported (or resolved) since ``since`` from: ``recent_incidents`` for a
    unit below the city when it reaches back that far (grid order: a district's rows are neighbours, so its
    week reads ~1/16 of the city's), else ``incidents`` (time order: a district's window scans the whole city's)."""
    if level == "city":
        return "incidents"
    start = recent_since(con)
    return "recent_incidents" if start is not None and since >= start else "incidents"


def data_version(con: duckdb.DuckDBPyConnection, key: str = "data_version") -> int:
    row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return int(row[0]) if row else 0


def reference_version(con: duckdb.DuckDBPyConnection) -> int:
    """Moves with loads, coverage runs and party edits, not with incidents (see ``pipelines.store.meta``)."""
    return data_version(con, REFERENCE_VERSION)


def child_indicators(
    con: duckdb.DuckDBPyConnection, level: str, code: str | None, since: dt.datetime, now: dt.datetime
) -> pd.DataFrame:
    """Per child: incidents since ``since``, open, open and overdue (buildings: none, incidents carry no building)."""
    child = CHILD[level]
    if child == "building":
        return pd.DataFrame(columns=["code", "window_count", "open_count", "overdue_count"])
    column = CODE_COLUMN[child]
    where, params = unit_named(level, code)
    return con.execute(
        f"""
        WITH w AS (SELECT {column} AS code, count(*) AS window_count FROM {reports_table(con, level, since)}
                   WHERE {where} AND reported_at >= $since AND reported_at <= $now GROUP BY 1),
             o AS (SELECT {column} AS code, count(*) AS open_count, count(*) FILTER (WHERE due_at < $now) AS overdue_count
                   FROM open_incidents WHERE {where} GROUP BY 1)
        SELECT coalesce(w.code, o.code) AS code, coalesce(w.window_count, 0) AS window_count,
               coalesce(o.open_count, 0) AS open_count, coalesce(o.overdue_count, 0) AS overdue_count
        FROM w FULL JOIN o ON w.code = o.code
        """,
        {"since": since, "now": now, **params},
    ).df()


def cell_counts(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str | None,
    res: int,
    since: dt.datetime,
    until: dt.datetime,
    limit: int,
) -> pd.DataFrame:
    """Incidents reported in [since, until) per H3 cell at ``res`` (the busiest ``limit`` cells)."""
    where, params = unit_filter(level, code)
    return con.execute(
        f"""
        SELECT h3_parent(h3_cell, ?) AS cell, count(*) AS n FROM incidents
        WHERE {where} AND reported_at >= ? AND reported_at < ? AND h3_cell IS NOT NULL
        GROUP BY 1 ORDER BY n DESC LIMIT ?
        """,
        [res, *params, since, until, limit],
    ).df()


def recent_points(
    con: duckdb.DuckDBPyConnection, level: str, code: str | None, since: dt.datetime, limit: int
) -> pd.DataFrame:
    """The newest incidents (for the 'just in' highlight on the map).

    The window's few rows are materialised before the sort: a plain ORDER BY … LIMIT on ``incidents`` is planned
    as a late-materialising top-N that scans the 10M-row table again by row id (~6-10 ms instead of ~1 ms at
    city scale; :func:`newest` likewise)."""
    where, params = unit_filter(level, code)
    return con.execute(
        f"""
        WITH w AS MATERIALIZED (SELECT incident_id, category, lon, lat, reported_at FROM incidents
                                WHERE {where} AND reported_at >= ?)
        SELECT * FROM w ORDER BY reported_at DESC LIMIT ?
        """,
        [*params, since, limit],
    ).df()


TICKER_LOOKBACK = (dt.timedelta(minutes=10), dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(days=7))
"""Where the newest incidents are looked for: the last 10 minutes, hour, day, then week (time-pruned scans);
a quiet grid shows fewer than the full list rather than scanning all history."""
SHORT_LOOKBACK = dt.timedelta(hours=1)


_TICKER_COLUMNS = "incident_id, category, status, priority, reported_at, due_at, community_code, grid_code"
_RESOLVED_COLUMNS = "incident_id, resolved_at, reported_at, status, satisfaction"


def newest(con: duckdb.DuckDBPyConnection, level: str, code: str | None, now: dt.datetime, limit: int = 8):
    """The newest incidents (names are added from the cached grid names, see ``DashboardData``).

    Looked for in the last 10 minutes, hour, day, then week (time-pruned scans); grids are quiet, so they go
    straight to the week.  A quiet unit shows fewer than ``limit`` rather than scanning all history.
    """
    where, params = unit_filter(level, code)
    rows = (
        "WITH w AS MATERIALIZED (SELECT {columns} FROM {table} WHERE {where} AND reported_at >= ?"
        " AND reported_at <= ?) SELECT * FROM w ORDER BY reported_at DESC, incident_id DESC LIMIT ?"
    )
    lookbacks = TICKER_LOOKBACK[-1:] if level == "grid" else TICKER_LOOKBACK
    for lookback in lookbacks:  # widen the window only for quiet units
        # the last hour is the end of ``incidents`` (time order): fewer rows than a district's in grid order
        table = "incidents" if lookback <= SHORT_LOOKBACK else reports_table(con, level, now - lookback)
        sql = rows.format(columns=_TICKER_COLUMNS, table=table, where=where)
        frame = con.execute(sql, [*params, now - lookback, now, limit]).df()
        if len(frame) >= limit:
            break
    return frame


def reports_after(con: duckdb.DuckDBPyConnection, level: str, code: str | None, after: dt.datetime, until):
    """A unit's reports in (after, until] (a report dated ahead of the clock; usually none)."""
    where, params = unit_filter(level, code)
    return con.execute(
        f"SELECT {_TICKER_COLUMNS} FROM incidents WHERE {where} AND reported_at > ? AND reported_at <= ?",
        [*params, after, until],
    ).df()


def most_overdue(con: duckdb.DuckDBPyConnection, level: str, code: str | None, now: dt.datetime, limit: int = 8):
    """Open incidents furthest past their deadline (equal deadlines by incident id)."""
    where, params = unit_filter(level, code)
    rows = (
        f"SELECT {_TICKER_COLUMNS} FROM open_incidents WHERE {where} AND due_at < ?"
        " ORDER BY due_at, incident_id LIMIT ?"
    )
    return con.execute(rows, [*params, now, limit]).df()


def first_due(con: duckdb.DuckDBPyConnection, level: str, code: str | None, limit: int = 8):
    """The open incidents with the earliest deadlines, whatever the clock: :func:`most_overdue` at any ``now`` is
    the ones of these due before it (they are its first rows), so they are read once and cut as the clock moves."""
    where, params = unit_filter(level, code)
    rows = f"SELECT {_TICKER_COLUMNS} FROM open_incidents WHERE {where} ORDER BY due_at NULLS LAST, incident_id LIMIT ?"
    return con.execute(rows, [*params, limit]).df()


def unit_week(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str | None,
    week: dt.datetime,
    now: dt.datetime,
    ids: list[str] | None = None,
):
    """(incidents reported, incidents resolved) in the unit since ``week``: few rows for a street, community or grid,
    so the side panels aggregate them in memory instead of scanning the week once per panel; only the incidents
    ``ids`` if given (a write's moved incidents, applied to rows already fetched).

    Read from ``recent_incidents`` (in grid order: the unit's rows only) when it reaches back to ``week``,
    else from ``incidents`` and ``resolutions`` (time order: the whole city's week is scanned).
    """
    where, params = _of_incidents(*unit_filter(level, code), ids)
    since = recent_since(con)
    if since is not None and week >= since:
        rows = con.execute(
            f"SELECT {_TICKER_COLUMNS}, resolved_at, satisfaction FROM recent_incidents WHERE {where}"
            " AND ((reported_at >= ? AND reported_at <= ?) OR (resolved_at >= ? AND resolved_at <= ?))",
            [*params, week, now, week, now],
        ).df()
        reported = rows["reported_at"].between(week, now)
        done = rows["resolved_at"].between(week, now)
        return (
            rows.loc[reported, _TICKER_COLUMNS.split(", ")].reset_index(drop=True),
            rows.loc[done, _RESOLVED_COLUMNS.split(", ")].reset_index(drop=True),
        )
    reported = con.execute(
        f"SELECT {_TICKER_COLUMNS} FROM incidents WHERE {where} AND reported_at >= ? AND reported_at <= ?",
        [*params, week, now],
    ).df()
    resolved = con.execute(
        f"SELECT {_RESOLVED_COLUMNS} FROM resolutions WHERE {where} AND resolved_at >= ? AND resolved_at <= ?",
        [*params, week, now],
    ).df()
    return reported, resolved


def unit_open(con: duckdb.DuckDBPyConnection, level: str, code: str | None, ids: list[str] | None = None):
    """Open incidents of a unit (few for a street, community or grid: overdue count and list come from these);
    only the incidents ``ids`` if given."""
    where, params = _of_incidents(*unit_filter(level, code), ids)
    return con.execute(f"SELECT {_TICKER_COLUMNS} FROM open_incidents WHERE {where}", params).df()


def _of_incidents(where: str, params: list, ids: list[str] | None) -> tuple[str, list]:
    """A unit's condition narrowed to the incidents ``ids`` (None: all of them)."""
    return (where, params) if ids is None else (f"{where} AND incident_id = ANY(?::VARCHAR[])", [*params, ids])


def category_counts(con: duckdb.DuckDBPyConnection, level: str, code: str | None, since: dt.datetime, now):
    where, params = unit_filter(level, code)
    return con.execute(
        f"""
        SELECT category, count(*) AS n FROM {reports_table(con, level, since)}
        WHERE {where} AND reported_at >= ? AND reported_at <= ? GROUP BY 1 ORDER BY n DESC
        """,
        [*params, since, now],
    ).df()


def ranking(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str | None,
    child: str,
    since: dt.datetime,
    now: dt.datetime,
    rollup: bool = True,
) -> pd.DataFrame:
    """Leader table: one row per street or community inside the unit.

    ``level`` must be above ``child`` (city or district for streets; up to street for communities).
    Incidents and closure are of the reports since ``since``; handling time and satisfaction of what was
    resolved since then (whole days from the loop's roll-up per community and day, ``loop_community_daily``,
    the part days at either end from ``resolutions``; ``rollup=False``: everything from ``resolutions``);
    overdue is the open incidents past their deadline now.
    """
    where, params = unit_named(level, code, "i.")
    unit_where, _ = unit_named(level, code, "u.")
    key = CODE_COLUMN[child]
    resolved, values = _resolved_sums(key, where, since, now, rollup)
    return con.execute(
        f"""
        WITH rep AS (
            SELECT i.{key} AS code, count(*) AS incidents, count(*) FILTER (WHERE i.{_DONE}) AS closed
            FROM {reports_table(con, level, since)} i WHERE {where} AND i.reported_at >= $since
            AND i.reported_at <= $now GROUP BY 1),
        res AS (
            SELECT code, sum(handling_us) / nullif(sum(handling_n), 0) / 3.6e9 AS handling_h,
                   sum(satisfaction_sum) / nullif(sum(satisfaction_n), 0) AS satisfaction
            FROM ({resolved}) GROUP BY 1),
        late AS (
            SELECT i.{key} AS code, count(*) AS overdue FROM open_incidents i
            WHERE {where} AND i.due_at < $now GROUP BY 1)
        SELECT u.{key} AS code, u.name, u.population, coalesce(rep.incidents, 0) AS incidents,
               round(1000.0 * coalesce(rep.incidents, 0) / nullif(u.population, 0), 2) AS per_1000,
               round(100.0 * rep.closed / nullif(rep.incidents, 0), 1) AS closure_rate,
               coalesce(late.overdue, 0) AS overdue, round(res.handling_h, 1) AS handling_h,
               round(res.satisfaction, 2) AS satisfaction
        FROM {TABLE[child]} u LEFT JOIN rep ON rep.code = u.{key} LEFT JOIN res ON res.code = u.{key}
             LEFT JOIN late ON late.code = u.{key}
        WHERE {unit_where}
        ORDER BY per_1000 DESC NULLS LAST, u.{key}
        """,
        {"since": since, "now": now, **params, **values},
    ).df()


_RESOLVED_SUMS = "handling_us, handling_n, satisfaction_sum, satisfaction_n"


def _resolved_sums(key: str, where: str, since: dt.datetime, now: dt.datetime, rollup: bool) -> tuple[str, dict]:
    """SQL (and its parameters) of the rows (code, handling and satisfaction sums) of what was resolved in
    [since, now] per child ``key``: whole days from ``loop_community_daily`` (a week: ~80k rows instead of the
    ~850k resolutions a city resolves), the part days at either end added or subtracted from ``resolutions``
    (:func:`~pipelines.store.loop_rollup.day_split`)."""
    days, pieces = day_split(since, now, rollup)
    parts, values = [], {}
    if days is not None:
        parts.append(
            f"SELECT i.{key} AS code, {_RESOLVED_SUMS} FROM loop_community_daily i"
            f" WHERE {where} AND i.day >= $first AND i.day < $last AND i.resolved > 0"
        )
        values |= {"first": days[0], "last": days[1]}
    select = (
        f"SELECT i.{key} AS code, {PART_SELECTS['resolved'][1]} FROM resolutions i WHERE {where} AND {{within}}"
        " GROUP BY 1"
    )
    pieces_sql, pieces_values = signed_pieces(
        pieces, _RESOLVED_SUMS.split(", "), select, "i.resolved_at", keep="code, "
    )
    parts += pieces_sql
    values |= pieces_values
    return " UNION ALL BY NAME ".join(f"({p})" for p in parts), values


def grid_detail(con: duckdb.DuckDBPyConnection, grid_code: str, now: dt.datetime):
    """(grid row, workers, open incidents) for the grid detail panel."""
    grid, workers = grid_info(con, grid_code)
    incidents = con.execute(
        """
        SELECT incident_id, category, status, reported_at, due_at, due_at < ? AS overdue FROM open_incidents
        WHERE grid_code = ? ORDER BY due_at LIMIT 50
        """,
        [now, grid_code],
    ).df()
    return grid, workers, incidents


def grid_info(con: duckdb.DuckDBPyConnection, grid_code: str):
    """(grid row, workers) of a grid: the detail panel without its open incidents."""
    grid = con.execute(
        """
        SELECT g.grid_code, g.name, g.community_name, g.street_name, g.population, g.households, g.area_m2
        FROM grids g WHERE g.grid_code = ?
        """,
        [grid_code],
    ).df()
    workers = con.execute(
        "SELECT worker_id, name, role, phone FROM grid_workers WHERE grid_code = ? ORDER BY role, worker_id",
        [grid_code],
    ).df()
    return grid, workers


def playback_counts(
    con: duckdb.DuckDBPyConnection, level: str, code: str | None, res: int, start: dt.datetime, end: dt.datetime
) -> pd.DataFrame:
    """Incidents per hour and H3 cell over [start, end) for time playback."""
    where, params = unit_filter(level, code)
    return con.execute(
        f"""
        SELECT date_diff('hour', ?::TIMESTAMP, date_trunc('hour', reported_at)) AS step,
               h3_parent(h3_cell, ?) AS cell, count(*) AS n
        FROM incidents WHERE {where} AND reported_at >= ? AND reported_at < ? AND h3_cell IS NOT NULL
        GROUP BY 1, 2
        """,
        [start, res, *params, start, end],
    ).df()


def data_end(con: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    row = con.execute("SELECT max(reported_at) FROM incidents").fetchone()
    return row[0] if row else None
