"""The closed loop's daily roll-up ``loop_daily``: per grid and day, the sums the indicators are made of.

A row holds, for one grid (and its community, street, district codes) and one day:

- by deadline day (``due_at``): ``due`` 应结案数, ``closed`` 结案数 (办结 now, whenever), ``closed_on_time``
  按期结案数 (办结 by the deadline); archived incidents are left out;
- by resolution day (``resolved_at``, from ``resolutions``): ``resolved``, ``handling_us`` / ``handling_n``
  (microseconds from report to resolution), ``satisfaction_sum`` / ``satisfaction_n`` (evaluated ones);
- by check day (``verified_at``): ``reworked`` (checks that failed), ``evaluation_sum`` / ``evaluation_n``
  (the community's 核查 scores).

A (grid, day) may have several rows: readers sum them.  Writes that only add rows (a new incident, a new
check) append their own contribution; writes that change an incident (a transition, a reopen) subtract its
old contribution and add its new one to one row of each (grid, day) key it touches (:func:`kept`); a full
rewrite of the derived tables rebuilds it (:func:`rebuild`).  The whistles and 议事 parts of the indicators are small tables and
are read directly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pandas as pd
import pyarrow as pa

from pipelines.store.loop_sums import CODE_NAMES, PART_SUMS, ROLLUPS, incident_sums

SUMS = (*PART_SUMS, "reworked", "evaluation_sum", "evaluation_n")
CODES = ", ".join(CODE_NAMES)

LOOP_DAILY_SCHEMA = f"""
-- Daily roll-up of the loop's indicator sums per grid (pipelines.store.loop_rollup), kept by the write path.
CREATE TABLE IF NOT EXISTS loop_daily (
    day DATE, grid_code VARCHAR, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR,
    {", ".join(f"{c} BIGINT DEFAULT 0" for c in SUMS)});
-- The same sums per district and day (the city's figures read these few thousand rows).
CREATE TABLE IF NOT EXISTS loop_district_daily (
    day DATE, district_code VARCHAR, {", ".join(f"{c} BIGINT DEFAULT 0" for c in SUMS)});
-- The same sums per community and day (the leader's street and community tables read a week's ~80k rows).
CREATE TABLE IF NOT EXISTS loop_community_daily (
    day DATE, community_code VARCHAR, street_code VARCHAR, district_code VARCHAR,
    {", ".join(f"{c} BIGINT DEFAULT 0" for c in SUMS)});
"""
COARSE = tuple((table, codes) for table, codes in ROLLUPS if table != "loop_daily")
"""The coarser roll-ups kept beside ``loop_daily``: (table, its code columns, the first one its key), each the sums
of ``loop_daily``'s rows grouped by day and those codes (a unit's codes extend its parent's: a community's code
gives its street and district)."""

# source part: (time column, SELECT expressions) over a relation with the incident / resolution / check columns
PART_SELECTS = {
    "due": (
        "due_at",
        "count(*) AS due, count(resolved_at) AS closed,"
        " count(*) FILTER (WHERE resolved_at <= due_at) AS closed_on_time",
    ),
    "resolved": (
        "resolved_at",
        "count(*) AS resolved, sum(datediff('microsecond', reported_at, resolved_at)) AS handling_us,"
        " count(reported_at) AS handling_n,"
        " sum(satisfaction) FILTER (WHERE status = 'evaluated') AS satisfaction_sum,"
        " count(satisfaction) FILTER (WHERE status = 'evaluated') AS satisfaction_n",
    ),
    "checks": (
        "verified_at",
        "count(*) FILTER (WHERE NOT passed) AS reworked,"
        " sum(score) FILTER (WHERE kind = '核查') AS evaluation_sum,"
        " count(score) FILTER (WHERE kind = '核查') AS evaluation_n",
    ),
}
_SOURCES = {
    "due": "incidents t WHERE due_at IS NOT NULL AND NOT coalesce(archived, false)",
    "resolved": "resolutions t WHERE true",
    "checks": "verifications t WHERE true",
}


def _rows_sql(sources: dict[str, str], extra: str = "") -> str:
    """One row per (day, grid codes) with every sum, from the given part sources (FROM … WHERE …)."""
    parts = []
    for part, source in sources.items():
        time, select = PART_SELECTS[part]
        where = extra.format(time=time)
        parts.append(f"SELECT t.{time}::DATE AS day, {CODES}, {select} FROM {source}{where} GROUP BY ALL")
    union = " UNION ALL BY NAME ".join(f"({p})" for p in parts)
    named = [c for c in SUMS if any(re.search(rf" AS {c}\b", PART_SELECTS[p][1]) for p in sources)]
    sums = ", ".join(f"coalesce(sum({c}), 0) AS {c}" for c in named)
    return f"SELECT day, {CODES}, {sums} FROM ({union}) GROUP BY ALL"


_SUMMED = ", ".join(f"sum({c}) AS {c}" for c in SUMS)


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite ``loop_daily`` from the base tables in grid order (a unit's rows are a few row groups, found by
    the hierarchical codes' min/max), and the coarser roll-ups (:data:`COARSE`, in day order) from it."""
    con.execute("DELETE FROM loop_daily")
    con.execute(f"INSERT INTO loop_daily BY NAME {_rows_sql(_SOURCES)} ORDER BY grid_code, day")
    for table, codes in COARSE:
        con.execute(f"DELETE FROM {table}")
        con.execute(
            f"INSERT INTO {table} BY NAME SELECT day, {', '.join(codes)}, {_SUMMED} FROM loop_daily"
            f" GROUP BY ALL ORDER BY day, {', '.join(codes)}"
        )


@contextmanager
def kept(con: duckdb.DuckDBPyConnection, rows_relation: str) -> Iterator[None]:
    """Keep the roll-up right across the rewrite of ``resolutions`` for the incidents whose rows, as
    ``incidents`` holds them after a change, are ``rows_relation``, by delta: their old contribution (the
    deadline part with the old resolution time, and the resolution part, both from ``resolutions`` before the
    rewrite) is subtracted and their new one (from ``incidents``) added to the few keyed rows they touch
    (:func:`merge_delta`), at a cost proportional to the incidents, not to the days × grids.  Their checks did
    not change (a new check is appended by :func:`add_check`)."""
    ids = f"incident_id IN (SELECT incident_id FROM {rows_relation})"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _loop_was AS SELECT incident_id, {_RESOLUTION_FIELDS} FROM resolutions"
        f" WHERE {ids}"
    )
    old_due = (
        f"(SELECT n.due_at, n.archived, w.resolved_at, {', '.join(f'n.{c}' for c in CODE_NAMES)}"
        f" FROM {rows_relation} n LEFT JOIN _loop_was w USING (incident_id)) t"
        " WHERE due_at IS NOT NULL AND NOT coalesce(archived, false)"
    )
    old = _rows_sql({"due": old_due, "resolved": "_loop_was t WHERE true"})
    new = _rows_sql(
        {
            "due": f"{rows_relation} t WHERE due_at IS NOT NULL AND NOT coalesce(archived, false)",
            "resolved": f"{rows_relation} t WHERE resolved_at IS NOT NULL",
        }
    )
    sums = [c for c in SUMS if c not in _CHECK_SUMS]
    negated = ", ".join(f"-{c} AS {c}" for c in sums)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _loop_change AS SELECT day, {CODES}, {', '.join(f'sum({c}) AS {c}' for c in sums)}"
        f" FROM (({new}) UNION ALL (SELECT day, {CODES}, {negated} FROM ({old}))) GROUP BY ALL"
        f" HAVING {' OR '.join(f'sum({c}) <> 0' for c in sums)}"
    )
    con.execute("DROP TABLE _loop_was")
    yield
    merge_delta(con, "_loop_change")
    con.execute("DROP TABLE _loop_change")


_RESOLUTION_FIELDS = f"resolved_at, reported_at, status, satisfaction, {CODES}"
_CHECK_SUMS = ("reworked", "evaluation_sum", "evaluation_n")
_TARGETS = """
CREATE OR REPLACE TEMP TABLE _loop_target AS
SELECT d.*, t.rid FROM {delta} d LEFT JOIN (
    SELECT day, {key}, min(rowid) AS rid FROM {table}
    WHERE day >= $lo AND day <= $hi AND ({key} IN (SELECT {key} FROM {delta}){nulls}) GROUP BY ALL
) t ON t.day = d.day AND t.{key} IS NOT DISTINCT FROM d.{key}
"""


def merge_delta(con: duckdb.DuckDBPyConnection, delta: str) -> None:
    """Add the signed sums of the table ``delta`` (day, codes, some of :data:`SUMS`; one row per key) to
    ``loop_daily`` per (grid_code, day) and to each coarser roll-up (:data:`COARSE`) per (its key, day): an
    UPDATE of one existing row per key, an INSERT where the key has no row yet."""
    names = [r[0] for r in con.execute(f"DESCRIBE {delta}").fetchall() if r[0] in SUMS]
    keys = ("grid_code", *(codes[0] for _, codes in COARSE))
    lo, hi, *nulls = con.execute(
        f"SELECT min(day), max(day), {', '.join(f'bool_or({k} IS NULL)' for k in keys)} FROM {delta}"
    ).fetchone()
    if lo is None:
        return
    levels = [("loop_daily", "grid_code", delta, f"day, {CODES}")]
    for n, (table, codes) in enumerate(COARSE):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _loop_coarse{n} AS SELECT day, {', '.join(codes)},"
            f" {', '.join(f'sum({c}) AS {c}' for c in names)} FROM {delta} GROUP BY ALL"
        )
        levels.append((table, codes[0], f"_loop_coarse{n}", f"day, {', '.join(codes)}"))
    for (table, key, rows, columns), null in zip(levels, nulls, strict=True):
        # a NULL key (an incident outside every grid) is looked for only when there is one: OR … IS NULL
        # defeats the pruning of the sorted table's row groups
        nulls_sql = f" OR {key} IS NULL" if null else ""
        con.execute(_TARGETS.format(delta=rows, key=key, table=table, nulls=nulls_sql), {"lo": lo, "hi": hi})
        added = ", ".join(f"{c} = {table}.{c} + d.{c}" for c in names)
        con.execute(f"UPDATE {table} SET {added} FROM _loop_target d WHERE {table}.rowid = d.rid")
        con.execute(
            f"INSERT INTO {table} BY NAME SELECT {columns}, {', '.join(names)} FROM _loop_target WHERE rid IS NULL"
        )
    con.execute("DROP TABLE _loop_target")
    for n in range(len(COARSE)):
        con.execute(f"DROP TABLE _loop_coarse{n}")


_INCIDENT_FIELDS = pa.schema(
    [
        ("due_at", pa.timestamp("us")),
        ("resolved_at", pa.timestamp("us")),
        ("reported_at", pa.timestamp("us")),
        ("status", pa.string()),
        ("satisfaction", pa.int8()),
        ("archived", pa.bool_()),
        *((c.strip(), pa.string()) for c in CODES.split(",")),
    ]
)
"""The incident columns the roll-up reads (a missing one is NULL)."""


def add_incidents(con: duckdb.DuckDBPyConnection, rows: pa.Table) -> None:
    """Append the contribution of incidents never stored before (a batch), their deadline and resolution parts,
    from the rows themselves (no read of ``incidents``): summed in numpy (:mod:`pipelines.store.loop_sums`), so
    DuckDB only appends the few resulting rows."""
    if len(rows) == 0:
        return
    for table, sums in incident_sums(rows).items():
        con.register("_loop_sums", sums)
        try:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _loop_sums")
        finally:
            con.unregister("_loop_sums")


def add_incident_rows(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    """:func:`add_incidents` for a few new incidents given as dicts (an intake's group): their sums are added
    up here, by the rules of :data:`PART_SELECTS`, and appended with one statement per table."""
    grids: dict[tuple, list[int]] = {}
    for row in rows:
        codes = tuple(row.get(c) for c in CODE_NAMES)
        for day, part in _contributions(row):
            totals = grids.setdefault((day, *codes), [0] * len(SUMS))
            for name, value in part.items():
                totals[SUMS.index(name)] += value
    tables = [("loop_daily", f"day, {CODES}", grids)]
    for table, codes in COARSE:
        at = [CODE_NAMES.index(c) for c in codes]
        coarse: dict[tuple, list[int]] = {}
        for (day, *grid_codes), totals in grids.items():
            into = coarse.setdefault((day, *(grid_codes[k] for k in at)), [0] * len(SUMS))
            into[:] = [a + b for a, b in zip(into, totals, strict=True)]
        tables.append((table, f"day, {', '.join(codes)}", coarse))
    for table, columns, keyed in tables:
        if keyed:
            marks = f"({', '.join('?' * (len(next(iter(keyed))) + len(SUMS)))})"
            con.execute(
                f"INSERT INTO {table} ({columns}, {', '.join(SUMS)}) VALUES {', '.join([marks] * len(keyed))}",
                [value for key, totals in keyed.items() for value in (*key, *totals)],
            )


def _missing(value) -> bool:
    return value is None or bool(pd.isna(value))  # NaT or NaN from a frame's records


def _contributions(row: dict) -> Iterator[tuple[dt.date, dict[str, int]]]:
    """(day, sums) of one new incident: its deadline part and, when resolved, its resolution part."""
    due, resolved, reported = (row.get(c) for c in ("due_at", "resolved_at", "reported_at"))
    done = not _missing(resolved)
    if not _missing(due) and not row.get("archived"):
        yield due.date(), {"due": 1, "closed": int(done), "closed_on_time": int(done and resolved <= due)}
    if done:
        part = {"resolved": 1}
        if not _missing(reported):
            part |= {"handling_us": (resolved - reported) // dt.timedelta(microseconds=1), "handling_n": 1}
        satisfaction = row.get("satisfaction")
        if row.get("status") == "evaluated" and not _missing(satisfaction):
            part |= {"satisfaction_sum": int(satisfaction), "satisfaction_n": 1}
        yield resolved.date(), part


def _append(con, rows_sql: str, params: list | None = None) -> None:
    """Append rows (day, codes, sums) to ``loop_daily`` and their sums to the coarser roll-ups (:data:`COARSE`)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _loop_delta AS {rows_sql}", params)
    con.execute("INSERT INTO loop_daily BY NAME SELECT * FROM _loop_delta")
    names = [r[0] for r in con.execute("DESCRIBE _loop_delta").fetchall() if r[0] in SUMS]
    for table, codes in COARSE:
        con.execute(
            f"INSERT INTO {table} BY NAME SELECT day, {', '.join(codes)},"
            f" {', '.join(f'sum({c}) AS {c}' for c in names)} FROM _loop_delta GROUP BY ALL"
        )
    con.execute("DROP TABLE _loop_delta")


def add_check(con: duckdb.DuckDBPyConnection, incident_id: str, verified_at, kind: str, passed: bool, score) -> None:
    """Append the contribution of one new check (核查 or 回访) of a stored incident."""
    evaluated = kind == "核查" and score is not None
    _append(
        con,
        f"SELECT ?::DATE AS day, {CODES}, ?::BIGINT AS reworked, ?::BIGINT AS evaluation_sum,"
        " ?::BIGINT AS evaluation_n FROM incidents WHERE incident_id = ?",
        [verified_at, int(not passed), int(score) if evaluated else 0, int(evaluated), incident_id],
    )


def day_split(
    since: dt.datetime, until: dt.datetime, rollup: bool = True
) -> tuple[tuple[dt.date, dt.date] | None, list[tuple]]:
    """How to sum a window [since, until] from the daily roll-up: (the days [first, last) read from it, or None,
    and the pieces (lo, lo_op, hi, hi_op, sign) read from the base table and added (+1) or subtracted (-1)).

    A part day at either end is read whichever way touches fewer hours: its own part added, or the whole day
    from the roll-up less the rest of the day (a week starting at 01:38 reads 1 h 38 min of the base table, not
    22 h 22 min).  ``rollup=False``: the whole window from the base table."""
    start, end = since.date(), until.date()
    if start == end or not rollup:
        return None, [(since, ">=", until, "<=", 1)]
    first = start if since.time() == dt.time() else start + dt.timedelta(days=1)
    pieces = []
    if first != start:  # the part day at the start
        day0, day1 = dt.datetime.combine(start, dt.time()), dt.datetime.combine(first, dt.time())
        if since - day0 < day1 - since:
            first, pieces = start, [(day0, ">=", since, "<", -1)]
        else:
            pieces = [(since, ">=", day1, "<", 1)]
    last = end
    day0, day1 = dt.datetime.combine(end, dt.time()), dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    if day1 - until < until - day0:  # the part day at the end
        last, pieces = end + dt.timedelta(days=1), [*pieces, (until, ">", day1, "<", -1)]
    else:
        pieces.append((day0, ">=", until, "<=", 1))
    return ((first, last) if first < last else None), pieces


def signed_pieces(pieces: list[tuple], columns, select: str, time_column: str, keep: str = "") -> tuple[list, dict]:
    """The base-table pieces of :func:`day_split` as SELECTs, and their parameters ``$lo<n>``, ``$hi<n>``: each
    is ``select`` (its ``{within}`` replaced by the piece's bounds on ``time_column``) with the sums ``columns``
    negated where the piece is subtracted; ``keep``: leading columns passed through unsigned (e.g. ``"code, "``)."""
    parts, values = [], {}
    for n, (lo, lo_op, hi, hi_op, sign) in enumerate(pieces):
        if lo >= hi and hi_op == "<":
            continue
        signed = ", ".join(f"{'-' if sign < 0 else ''}{c} AS {c}" for c in columns)
        within = f"{time_column} {lo_op} $lo{n} AND {time_column} {hi_op} $hi{n}"
        parts.append(f"SELECT {keep}{signed} FROM ({select.replace('{within}', within)})")
        values |= {f"lo{n}": lo, f"hi{n}": hi}
    return parts, values
