"""The closed loop's performance indicators (GB/T 30428.4 绩效评价) for any unit and period, per child unit if asked.

Definitions, for the period [since, until) and the incidents of the unit (archived ones left out):

- 应结案数 ``due``: incidents whose deadline (due_at) falls in the period;
- 结案数 ``closed``: of those, resolved (办结) before ``until``; 按期结案数 ``closed_on_time``: resolved by the deadline;
- ``closure_rate`` = closed ÷ due (结案率), ``on_time_closure_rate`` = closed_on_time ÷ due (按期结案率);
- ``rework_rate`` = 返工 ÷ 办结 (返工率): checks that failed in the period (核查不通过, reopened after the visit)
  over incidents resolved in the period;
- ``avg_handling_h``: mean hours from report to resolution of incidents resolved in the period;
- ``satisfaction``: residents' mean score (1-5) of incidents resolved in the period and evaluated;
- ``community_evaluation``: the community's mean score (1-5) given at 核查 in the period;
- ``whistle_response_h``: mean hours from 吹哨 to 报到 of whistles blown in the period;
  ``whistle_on_time_rate``: of those whistles, the share that reported by the report deadline;
- ``deliberation_done_rate``: follow-up tasks done ÷ tasks of the 议事 held in the period.

Each part reads its own small table or an ordered one (``resolutions`` by resolved_at, ``incidents`` by
time) with the unit filter on the hierarchy codes every row carries, so a whole city's streets take one
grouped scan per part.  A rate with a zero denominator is None (not 0: nothing was due).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from pipelines.vocabulary import LEVEL_TABLES, LEVELS

INDICATORS = (
    "closure_rate",
    "on_time_closure_rate",
    "rework_rate",
    "avg_handling_h",
    "satisfaction",
    "community_evaluation",
    "whistle_response_h",
    "whistle_on_time_rate",
    "deliberation_done_rate",
)
"""The indicators, in the order the API and the cockpit show them."""
COUNTS = ("due", "closed", "closed_on_time", "resolved", "reworked", "whistles", "deliberation_tasks", "tasks_done")
LOWER_IS_BETTER = frozenset({"rework_rate", "avg_handling_h", "whistle_response_h"})

# part: (table alias FROM …, time column, SELECT expressions)
_PARTS = {
    "due": (
        "incidents t",
        "t.due_at",
        "count(*) AS due, count(t.resolved_at) FILTER (WHERE t.resolved_at < $until) AS closed,"
        " count(*) FILTER (WHERE t.resolved_at <= t.due_at AND t.resolved_at < $until) AS closed_on_time",
    ),
    "resolved": (
        "resolutions t",
        "t.resolved_at",
        "count(*) AS resolved, avg(epoch(t.resolved_at - t.reported_at)) / 3600.0 AS avg_handling_h,"
        " avg(t.satisfaction) FILTER (WHERE t.status = 'evaluated') AS satisfaction",
    ),
    "checks": (
        "verifications t",
        "t.verified_at",
        "count(*) FILTER (WHERE NOT t.passed) AS reworked,"
        " avg(t.score) FILTER (WHERE t.kind = '核查') AS community_evaluation",
    ),
    "whistles": (
        "whistles t",
        "t.blown_at",
        "count(*) AS whistles, avg(epoch(t.reported_at - t.blown_at)) / 3600.0 AS whistle_response_h,"
        " avg(CASE WHEN t.reported_at <= t.report_due_at THEN 1.0 ELSE 0.0 END)"
        "   FILTER (WHERE t.reported_at IS NOT NULL OR t.report_due_at < $until) AS whistle_on_time_rate",
    ),
    "tasks": (
        "deliberation_tasks t JOIN deliberations d USING (deliberation_id)",
        "d.held_on",
        "count(*) AS deliberation_tasks, count(t.done_at) FILTER (WHERE t.done_at < $until) AS tasks_done",
    ),
}


class UnknownUnitError(LookupError):
    pass


def unit_level(con: duckdb.DuckDBPyConnection, code: str | None) -> str:
    """The level of a unit code (``city`` for None, empty or 'city'); :class:`UnknownUnitError` when no unit has it."""
    if not code or code == "city":
        return "city"
    for level in ("district", "street", "community", "grid"):
        table, column = LEVEL_TABLES[level]
        if con.execute(f"SELECT 1 FROM {table} WHERE {column} = ? LIMIT 1", [code]).fetchone():
            return level
    raise UnknownUnitError(f"unit {code!r} is not a district, street, community or grid code (or 'city')")


def child_level(level: str) -> str | None:
    """The level below (city → district … community → grid), None for a grid."""
    index = LEVELS.index(level)
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


def indicators(
    con: duckdb.DuckDBPyConnection,
    since: dt.datetime,
    until: dt.datetime,
    level: str = "city",
    code: str | None = None,
    by: str | None = None,
) -> pd.DataFrame:
    """The counts and indicators of the unit (``level``/``code``) in [since, until), one row per ``by`` unit.

    ``by`` is a level below ``level`` (a column ``unit_code`` names its units), ``week`` (``unit_code`` is the
    Monday of each week) or None (one row).  Units with nothing in the period have no row.
    """
    params = {"since": since, "until": until} | ({} if level == "city" else {"code": code})
    frames = []
    for part, (source, time_column, select) in _PARTS.items():
        if part == "tasks" and "grid" in (level, by):
            continue  # deliberations belong to communities, not grids
        alias = "d." if part == "tasks" else "t."
        part_key = f"{alias}{LEVEL_TABLES[by][1]}" if by in LEVEL_TABLES else "'all'"
        if by == "week":
            part_key = f"date_trunc('week', {time_column})::DATE"
        part_where = "" if level == "city" else f" AND {alias}{LEVEL_TABLES[level][1]} = $code"
        archived = " AND NOT coalesce(t.archived, false)" if part == "due" else ""
        sql = (
            f"SELECT {part_key} AS unit_code, {select} FROM {source}"
            f" WHERE {time_column} >= $since AND {time_column} < $until{part_where}{archived} GROUP BY 1"
        )
        used = {k: v for k, v in params.items() if f"${k}" in sql}
        frames.append(con.execute(sql, used).df().set_index("unit_code"))
    table = pd.concat(frames, axis=1)
    table = table[table.index.notna()]
    return finish(table)


def finish(table: pd.DataFrame) -> pd.DataFrame:
    """Counts as whole numbers (0 when missing), the rates from them (None when nothing was due)."""
    for column in COUNTS:
        table[column] = table[column].fillna(0).astype("int64") if column in table else 0

    def ratio(a: str, b: str) -> pd.Series:
        return (table[a] / table[b].where(table[b] > 0)).astype("float64")

    table["closure_rate"] = ratio("closed", "due")
    table["on_time_closure_rate"] = ratio("closed_on_time", "due")
    table["rework_rate"] = ratio("reworked", "resolved")
    table["deliberation_done_rate"] = ratio("tasks_done", "deliberation_tasks")
    for column in INDICATORS:
        if column not in table:
            table[column] = np.nan
        table[column] = table[column].astype("float64")
    return table.reset_index()[["unit_code", *COUNTS, *INDICATORS]]


def as_json(row: dict) -> dict:
    """One row as JSON-ready values (NaN → None, numpy → Python)."""
    return {
        k: (None if isinstance(v, float) and np.isnan(v) else v.item() if hasattr(v, "item") else v)
        for k, v in row.items()
    }


def department_ranking(con: duckdb.DuckDBPyConnection, since: dt.datetime, until: dt.datetime) -> pd.DataFrame:
    """Departments ranked by 反向评价 (mean rating, best first) then by whistle response (fastest first)."""
    return con.execute(
        """
        SELECT department, count(*) AS whistles, count(reported_at) AS reported, count(resolved_at) AS resolved,
               avg(rating) AS rating, count(rating) AS ratings,
               avg(epoch(reported_at - blown_at)) / 3600.0 AS response_h,
               avg(CASE WHEN reported_at <= report_due_at THEN 1.0 ELSE 0.0 END)
                   FILTER (WHERE reported_at IS NOT NULL OR report_due_at < $until) AS on_time_rate,
               rank() OVER (ORDER BY avg(rating) DESC NULLS LAST, avg(epoch(reported_at - blown_at)) NULLS LAST)
                   AS rank
        FROM whistles WHERE blown_at >= $since AND blown_at < $until
        GROUP BY department ORDER BY rank, department
        """,
        {"since": since, "until": until},
    ).df()
