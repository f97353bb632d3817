"""The command centre's KPI tiles and 24-hour trend of the city or a district: its SQL, parameterised.

Streets, communities and grids fetch their week once and aggregate it in memory (:meth:`LiveModel._small_unit_panels`)
when the window is within the last week; the city and a district read these.  Every write of incidents changes the whole city's figures, so they are
recomputed after each one and must stay cheap at city scale (~1M reports a week):

- what was resolved in the last 7 days reads the whole days from the loop's daily roll-up (``loop_district_daily``
  for the city and a district, ``loop_daily`` below; :mod:`pipelines.store.loop_rollup`, kept by every write path)
  and only the part days at either end from ``resolutions``, added or subtracted from the whole day, whichever is
  shorter (``rollup=False``: everything from ``resolutions``);
- the week's reports are counted per status (a grouped count is cheaper than filtering on the status text), a
  district's from ``recent_incidents`` (grid order: its rows only; :func:`dashboard.queries.reports_table`);
- the trend buckets hours as integers (``epoch_us // 1 h``) rather than truncating timestamps.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from dashboard.queries import reports_table, unit_named
from pipelines.store.loop_rollup import PART_SELECTS, day_split, signed_pieces
from pipelines.vocabulary import DONE_STATUSES

KPI_PARTS = ("reported", "resolved", "overdue")
_ROLLED = ("resolved", "handling_us", "handling_n", "satisfaction_sum", "satisfaction_n")
_HOUR_US = 3_600_000_000


def kpis(
    con: duckdb.DuckDBPyConnection,
    level: str,
    code: str | None,
    day_start: dt.datetime,
    now: dt.datetime,
    parts: tuple[str, ...] = KPI_PARTS,
    rollup: bool = True,
) -> dict:
    """今日上报, 今日办结, 超期未办结 now; 办结率 (of the last 7 days' reports), 平均处置时长 (h) and 满意度
    (of what was resolved in the last 7 days), for a unit.

    Each part filters on one time column only, so DuckDB's row-group min/max skip the old history;
    ``parts`` picks some of them (the dashboard runs the three side by side).
    """
    where, params = unit_named(level, code)
    week = now - dt.timedelta(days=7)
    out: dict = {}
    if "reported" in parts:
        rows = con.execute(
            f"SELECT status, count(*) FILTER (WHERE reported_at >= $day), count(*)"
            f" FROM {reports_table(con, level, week)}"
            f" WHERE {where} AND reported_at >= $week AND reported_at <= $now GROUP BY 1",
            {"day": day_start, "week": week, "now": now, **params},
        ).fetchall()
        out.update(
            reported_today=sum(r[1] for r in rows),
            reported_week=sum(r[2] for r in rows),
            closed_week=sum(r[2] for r in rows if r[0] in DONE_STATUSES),
        )
    if "resolved" in parts:
        out.update(_resolved(con, level, code, day_start, week, now, rollup))
    if "overdue" in parts:
        out["overdue"] = con.execute(
            f"SELECT count(*) FROM open_incidents WHERE {where} AND due_at < $now", {"now": now, **params}
        ).fetchone()[0]
    return out


def _resolved(con, level, code, day_start, week, now, rollup: bool) -> dict:
    """resolved_today, handling_h and satisfaction of what was resolved in [week, now]: whole days from the
    roll-up, the part days at either end added or subtracted from ``resolutions`` (whichever reads fewer hours,
    :func:`~pipelines.store.loop_rollup.day_split`)."""
    where, params = unit_named(level, code)
    days, pieces = day_split(week, now, rollup)
    parts = []
    values = {"day": day_start, **params}
    if days is not None:
        table = "loop_district_daily" if level in ("city", "district") else "loop_daily"
        sums = ", ".join(f"sum({c}) AS {c}" for c in _ROLLED)
        parts.append(
            f"SELECT {sums}, sum(resolved) FILTER (WHERE day = $today) AS today FROM {table}"
            f" WHERE {where} AND day >= $first AND day < $last"
        )
        values |= {"first": days[0], "last": days[1], "today": day_start.date()}
    select = (
        f"SELECT {PART_SELECTS['resolved'][1]}, count(*) FILTER (WHERE resolved_at >= $day) AS today"
        f" FROM resolutions WHERE {where} AND {{within}}"
    )
    pieces_sql, pieces_values = signed_pieces(pieces, (*_ROLLED, "today"), select, "resolved_at")
    parts += pieces_sql
    values |= pieces_values
    union = " UNION ALL BY NAME ".join(f"({p})" for p in parts)
    row = con.execute(f"SELECT sum(today), {', '.join(f'sum({c})' for c in _ROLLED)} FROM ({union})", values).fetchone()
    today, _, handling_us, handling_n, satisfaction_sum, satisfaction_n = row
    return {
        "resolved_today": int(today or 0),
        "handling_h": handling_us / 3.6e9 / handling_n if handling_n else None,
        "satisfaction": satisfaction_sum / satisfaction_n if satisfaction_n else None,
    }


def hour_counts(
    con: duckdb.DuckDBPyConnection, level: str, code: str | None, start: dt.datetime, end: dt.datetime, last: bool
) -> list[tuple[int, int, int]]:
    """(kind: 0 reported / 1 resolved, hour as ``epoch_us // 1 h``, count) of a unit's reports and resolutions in
    [start, end) — [start, end] with ``last``."""
    where, params = unit_named(level, code)
    upto = "<=" if last else "<"
    return con.execute(
        f"""
        SELECT 0 AS kind, epoch_us(reported_at) // $hour AS h, count(*) AS n FROM incidents
        WHERE {where} AND reported_at >= $start AND reported_at {upto} $end GROUP BY 2
        UNION ALL
        SELECT 1 AS kind, epoch_us(resolved_at) // $hour AS h, count(*) AS n FROM resolutions
        WHERE {where} AND resolved_at >= $start AND resolved_at {upto} $end GROUP BY 2
        """,
        {"hour": _HOUR_US, "start": start, "end": end, **params},
    ).fetchall()


def hour_times(
    con: duckdb.DuckDBPyConnection, level: str, code: str | None, start: dt.datetime, end: dt.datetime
) -> tuple[np.ndarray, np.ndarray]:
    """(report times, resolution times) of a unit in [start, end): the running hour's few hundred, read once per
    data version and counted up to the clock at each refresh (:func:`running_counts`)."""
    where, params = unit_named(level, code)
    rows = con.execute(
        f"""
        SELECT 0 AS kind, reported_at AS at FROM incidents
        WHERE {where} AND reported_at >= $start AND reported_at < $end
        UNION ALL
        SELECT 1 AS kind, resolved_at AS at FROM resolutions
        WHERE {where} AND resolved_at >= $start AND resolved_at < $end
        """,
        {"start": start, "end": end, **params},
    ).fetchnumpy()
    kind, at = np.asarray(rows["kind"]), np.asarray(rows["at"], dtype="datetime64[us]")
    return at[kind == 0], at[kind == 1]


def running_counts(times: tuple[np.ndarray, np.ndarray], now: dt.datetime) -> list[tuple[int, int, int]]:
    """:func:`hour_counts` of the hour ``now`` is in, up to ``now``, from that hour's :func:`hour_times`."""
    hour = (now.replace(minute=0, second=0, microsecond=0) - dt.datetime(1970, 1, 1)) // dt.timedelta(hours=1)
    upto = np.datetime64(now, "us")
    return [(kind, hour, int((at <= upto).sum())) for kind, at in enumerate(times)]


def hourly_trend(con: duckdb.DuckDBPyConnection, level: str, code: str | None, now: dt.datetime) -> pd.DataFrame:
    """Reported and resolved per hour over the last 24 hours (``hour``: the hour's start; the hour ``now`` is in
    last, up to ``now``), all read now (the dashboard keeps its parts: ``LiveModel.trend``)."""
    top = now.replace(minute=0, second=0, microsecond=0)
    whole = hour_counts(con, level, code, top - dt.timedelta(hours=23), top, last=False)
    return trend_frame([*whole, *hour_counts(con, level, code, top, now, last=True)], now)


def trend_frame(counts: list[tuple[int, int, int]], now: dt.datetime) -> pd.DataFrame:
    """The 24-hour trend's frame from (kind, hour, count) rows (:func:`hour_counts`)."""
    top = now.replace(minute=0, second=0, microsecond=0)
    hours = pd.date_range(end=top, periods=24, freq="h")
    last = (top - dt.datetime(1970, 1, 1)) // dt.timedelta(hours=1)
    index = {last - 23 + i: i for i in range(24)}
    reported, resolved = [0] * 24, [0] * 24
    for kind, hour, n in counts:
        if hour in index:
            (resolved if kind else reported)[index[hour]] = n
    return pd.DataFrame({"hour": hours, "reported": reported, "resolved": resolved})
