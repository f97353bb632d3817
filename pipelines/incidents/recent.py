"""``recent_incidents``: the incidents reported or resolved lately, laid out by grid, kept by every write path.

The side panels of a community or grid show its last week: reports, resolutions, the newest incidents.  On
``incidents`` (stored in time order) a grid filter cannot skip anything inside the week, so every panel read
scanned the whole city's week (~780k rows at city scale) to return a dozen.  This table holds the same
columns for every incident with ``reported_at`` or ``resolved_at`` at or after ``meta.recent_since``,
rebuilt in ``grid_code`` order (a community's grids are neighbours, since grid codes extend community
codes), so a unit's rows sit in one or two storage segments that DuckDB's min/max statistics find.

Rules every writer keeps (see :func:`sync_recent`, :func:`append_recent`):
- an incident is in the table iff ``reported_at >= recent_since OR resolved_at >= recent_since``, with the
  same values as in ``incidents``;
- readers use it only for windows starting at or after ``recent_since`` (:func:`recent_since`), else read
  the base tables: a missing or stale table is slower, never wrong.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.store.meta import meta_value, set_meta

RECENT_DAYS = 8
"""How far back a rebuild reaches, from midnight (the panels read 7 days; the rest covers the clock moving on)."""
RECENT_COLUMNS = (
    "incident_id, category, status, priority, reported_at, due_at, resolved_at, satisfaction,"
    " grid_code, community_code, street_code, district_code"
)
_NAMES = [c.strip() for c in RECENT_COLUMNS.split(",")]
_SINCE_KEY = "recent_since"
_KEEP = "(reported_at >= $since OR resolved_at >= $since)"


def recent_since(con: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    """From when on ``recent_incidents`` is complete (None: not built; read the base tables)."""
    value = meta_value(con, _SINCE_KEY)
    return dt.datetime.fromisoformat(value) if value else None


def rebuild_recent(con: duckdb.DuckDBPyConnection, now: dt.datetime | None = None) -> None:
    """Refill the table from ``incidents`` for the ``RECENT_DAYS`` before ``now`` (default: the newest report),
    sorted by grid.  Call inside a transaction (migrations, full syncs, a server's start)."""
    if now is None:
        now = con.execute("SELECT max(reported_at) FROM incidents").fetchone()[0]
    con.execute("DELETE FROM recent_incidents")
    if now is None:  # no incidents: complete from any time on
        set_meta(con, _SINCE_KEY, dt.datetime(1970, 1, 1).isoformat(sep=" "))
        return
    since = dt.datetime.combine((now - dt.timedelta(days=RECENT_DAYS)).date(), dt.time())
    con.execute(
        f"INSERT INTO recent_incidents SELECT {RECENT_COLUMNS} FROM incidents WHERE {_KEEP} ORDER BY grid_code",
        {"since": since},
    )
    set_meta(con, _SINCE_KEY, since.isoformat(sep=" "))


def sync_recent(con: duckdb.DuckDBPyConnection, rows_table: str) -> None:
    """Bring the incidents in step whose rows (as ``incidents`` holds them now, after any change) are the
    relation ``rows_table``."""
    since = recent_since(con)
    if since is None:
        return
    con.execute(f"DELETE FROM recent_incidents WHERE incident_id IN (SELECT incident_id FROM {rows_table})")
    con.execute(
        f"INSERT INTO recent_incidents SELECT {RECENT_COLUMNS} FROM {rows_table} WHERE {_KEEP}", {"since": since}
    )


def append_recent(con: duckdb.DuckDBPyConnection, rows: pa.Table) -> None:
    """Add new incidents (never stored before) given as an Arrow table with the incidents' columns."""
    since = recent_since(con)
    if since is None or len(rows) == 0:
        return
    bound = pa.scalar(since, pa.timestamp("us"))
    keep = pc.greater_equal(rows["reported_at"].cast(pa.timestamp("us")), bound)
    if "resolved_at" in rows.column_names:
        keep = pc.or_kleene(keep, pc.greater_equal(rows["resolved_at"].cast(pa.timestamp("us")), bound))
    fresh = rows.filter(pc.fill_null(keep, False))
    if len(fresh) == 0:
        return
    present = [n for n in _NAMES if n in fresh.column_names]
    con.register("_recent_rows", fresh.select(present))
    try:
        con.execute(f"INSERT INTO recent_incidents ({', '.join(present)}) SELECT * FROM _recent_rows")
    finally:
        con.unregister("_recent_rows")


def append_recent_rows(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    """:func:`append_recent` for intake's new incidents given as dicts (one statement for the group)."""
    if not rows:
        return
    since = recent_since(con)
    if since is None:
        return
    keep = [r for r in rows if _at_or_after(r.get("reported_at"), since) or _at_or_after(r.get("resolved_at"), since)]
    if not keep:
        return
    marks = f"({', '.join('?' * len(_NAMES))})"
    con.execute(
        f"INSERT INTO recent_incidents ({RECENT_COLUMNS}) VALUES {', '.join([marks] * len(keep))}",
        [r.get(name) for r in keep for name in _NAMES],
    )


def _at_or_after(value, since: dt.datetime) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=None) >= since
