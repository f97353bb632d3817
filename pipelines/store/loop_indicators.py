"""The closed loop's performance indicators (GB/T 30428.4 绩效评价) for any unit and period, per child unit if asked.

Definitions, for the period [since, until) and the incidents of the unit (archived ones left out):

- 应结案数 ``due``: incidents whose deadline (due_at) falls in the period;
- 结案数 ``closed``: of those, the ones 办结 (resolved, whenever: the figure is "as of now", so a period's
  closure rate still rises when a late case is closed after its end; that keeps it a sum of per-day counts
  that the roll-up holds exactly); 按期结案数 ``closed_on_time``: resolved by the deadline;
- ``closure_rate`` = closed ÷ due (结案率), ``on_time_closure_rate`` = closed_on_time ÷ due (按期结案率);
- ``rework_rate`` = 返工 ÷ 办结 (返工率): checks that failed in the period (核查不通过, reopened after the visit)
  over incidents resolved in the period;
- ``avg_handling_h``: mean hours from report to resolution of incidents resolved in the period;
- ``satisfaction``: residents' mean score (1-5) of incidents resolved in the period and evaluated;
- ``community_evaluation``: the community's mean score (1-5) given at 核查 in the period;
- ``whistle_response_h``: mean hours from 吹哨 to 报到 of whistles blown in the period;
  ``whistle_on_time_rate``: of those whistles, the share that reported by the report deadline;
- ``deliberation_done_rate``: follow-up tasks done ÷ tasks of the 议事 held in the period.

The deadline, resolution and check parts read the whole days of the period from the daily roll-up
``loop_daily`` (:mod:`pipelines.store.loop_rollup`) and the part days at either end from the base tables
(``incidents`` by time, ``resolutions`` by resolved_at, ``verifications``); whistles and 议事 read their
own small tables.  The unit filter is on the hierarchy codes every row carries, so a whole city's streets
take one grouped scan per part.  A rate with a zero denominator is None (not 0: nothing was due).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from pipelines.store.loop_rollup import PART_SELECTS, SUMS
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

# parts read from the base tables over the whole period: (table alias FROM …, time column, SELECT expressions)
_DIRECT = {
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
# parts summed per day in loop_daily (whole days) or read from the base tables (part days): (FROM … WHERE …)
_ROLLED = {
    "due": "incidents t WHERE NOT coalesce(t.archived, false)",
    "resolved": "resolutions t WHERE true",
    "checks": "verifications t WHERE true",
}
_DAY = dt.timedelta(days=1)


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
    rollup: bool = True,
) -> pd.DataFrame:
    """The counts and indicators of the unit (``level``/``code``) in [since, until), one row per ``by`` unit.

    ``by`` is a level below ``level`` (a column ``unit_code`` names its units), ``week`` (``unit_code`` is the
    Monday of each week) or None (one row).  Units with nothing in the period have no row.  The whole days of
    the period are read from the daily roll-up ``loop_daily`` (``rollup=False``: everything from the history).
    """
    days, edges = _split(since, until) if rollup else (None, [(since, until)])
    params: dict = {"since": since, "until": until} | ({} if level == "city" else {"code": code})
    sums = []
    if days:
        table = "loop_district_daily" if level == "city" and by in (None, "district", "week") else "loop_daily"
        params |= {"first": days[0], "last": days[1]}
        select = ", ".join(f"sum({c}) AS {c}" for c in SUMS)
        sums.append(_part_sql(select, f"{table} t", "t.day", "$first", "$last", level, by))
    for n, (lo, hi) in enumerate(edges):
        params |= {f"lo{n}": lo, f"hi{n}": hi}
        for part, source in _ROLLED.items():
            time, select = PART_SELECTS[part]
            sums.append(_part_sql(select, source, f"t.{time}", f"$lo{n}", f"$hi{n}", level, by))
    union = " UNION ALL BY NAME ".join(f"({q})" for q in sums)
    ctes = [f"sums_part AS (SELECT unit_code, {', '.join(f'sum({c}) AS {c}' for c in SUMS)} FROM ({union}) GROUP BY 1)"]
    for part, (source, time_column, select) in _DIRECT.items():
        if part == "tasks" and "grid" in (level, by):
            continue  # deliberations belong to communities, not grids
        alias = "d" if part == "tasks" else "t"
        ctes.append(f"{part}_part AS ({_part_sql(select, source, time_column, '$since', '$until', level, by, alias)})")
    names = [c.split(" AS ", 1)[0] for c in ctes]
    joined = " ".join([names[0], *(f"FULL JOIN {n} USING (unit_code)" for n in names[1:])])
    sql = f"WITH {', '.join(ctes)} SELECT {_output('tasks_part' in names)} FROM {joined} WHERE unit_code IS NOT NULL"
    return con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql}).df()


def _part_sql(select, source, time_column, lo, hi, level, by, alias="t") -> str:
    key, unit = _unit_sql(level, by, alias, time_column)
    joiner = " AND " if " WHERE " in f" {source} " else " WHERE "
    where = f"{time_column} >= {lo} AND {time_column} < {hi}"
    return f"SELECT {key} AS unit_code, {select} FROM {source}{joiner}{where}{unit} GROUP BY 1"


def _output(tasks: bool) -> str:
    """The SELECT list of :func:`indicators`: ``unit_code``, the counts (0 when missing), the indicators."""
    counts = {c: f"coalesce({c}, 0)::BIGINT" for c in ("due", "closed", "closed_on_time", "resolved", "reworked")}
    counts["whistles"] = "coalesce(whistles, 0)::BIGINT"
    counts["deliberation_tasks"] = "coalesce(deliberation_tasks, 0)::BIGINT" if tasks else "0::BIGINT"
    counts["tasks_done"] = "coalesce(tasks_done, 0)::BIGINT" if tasks else "0::BIGINT"
    values = {
        "closure_rate": "closed / nullif(due, 0)",
        "on_time_closure_rate": "closed_on_time / nullif(due, 0)",
        "rework_rate": "coalesce(reworked, 0) / nullif(resolved, 0)",
        "avg_handling_h": "handling_us / 3.6e9 / nullif(handling_n, 0)",
        "satisfaction": "satisfaction_sum / nullif(satisfaction_n, 0)",
        "community_evaluation": "evaluation_sum / nullif(evaluation_n, 0)",
        "whistle_response_h": "whistle_response_h",
        "whistle_on_time_rate": "whistle_on_time_rate",
        "deliberation_done_rate": "tasks_done / nullif(deliberation_tasks, 0)" if tasks else "NULL",
    }
    return ", ".join(
        [
            "unit_code",
            *(f"{e} AS {c}" for c, e in counts.items()),
            *(f"({values[c]})::DOUBLE AS {c}" for c in INDICATORS),
        ]
    )


def _split(since: dt.datetime, until: dt.datetime) -> tuple[tuple[dt.date, dt.date] | None, list]:
    """The whole days [first, last) inside [since, until) and the part days before and after them."""
    first = since.date() if since.time() == dt.time() else since.date() + _DAY
    last = until.date()
    if first >= last:
        return None, [(since, until)]
    start, end = dt.datetime.combine(first, dt.time()), dt.datetime.combine(last, dt.time())
    return (first, last), [(a, b) for a, b in ((since, start), (end, until)) if a < b]


def _unit_sql(level: str, by: str | None, alias: str, time_column: str) -> tuple[str, str]:
    """The ``unit_code`` expression and the unit filter of a part."""
    key = f"{alias}.{LEVEL_TABLES[by][1]}" if by in LEVEL_TABLES else "'all'"
    if by == "week":
        key = f"date_trunc('week', {time_column})::DATE"
    where = "" if level == "city" else f" AND {alias}.{LEVEL_TABLES[level][1]} = $code"
    return key, where


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
