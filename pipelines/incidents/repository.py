"""Every read and write of the incident tables: incidents, their history, open state, assignments, tokens.

The incident family is ``incidents`` plus what is kept in step with it: ``open_incidents`` and
``resolutions`` (derived, small, for the dashboard's open/overdue and handling-time figures),
``incident_events`` (append-only history, 过程追踪), ``assignments`` and ``intake_tokens``.  Every
write path here brings the derived tables along (:func:`sync_derived_tables`), so no caller has
to.  Writes expect to run inside a transaction (``Database.write()`` or ``store.transaction``).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from pipelines.errors import GridtwinError
from pipelines.incidents.machine import next_status_sql
from pipelines.store.meta import bump_data_version
from pipelines.store.rows import as_arrow, columns_of, time_order
from pipelines.store.schema import OPEN_COLUMNS, RESOLVED_COLUMNS
from pipelines.vocabulary import GRID_CODE_COLUMNS, OPEN_LIVE_SQL, OPEN_SQL, OPEN_STATUSES, sql_in

NEXT_STATUS_SQL = next_status_sql()
_TO_OPEN = sql_in("$to", OPEN_STATUSES)


INCIDENT_FIELDS = (
    "i.incident_id, i.category, i.affair_class, i.source, i.priority, i.status, i.reported_at, i.due_at,"
    " i.resolved_at, i.description, i.address, i.reporter_name, i.reporter_phone, i.satisfaction, i.lon, i.lat,"
    " i.grid_code, i.community_code, i.street_code, i.district_code,"
    " a.assignee_type, a.assignee, a.level AS dispatch_level, g.name AS grid_name, g.community_name, g.street_name, c.department"
)


INCIDENT_JOINS = (
    "incidents i LEFT JOIN assignments a USING (incident_id) LEFT JOIN grids g ON g.grid_code = i.grid_code"
    " LEFT JOIN categories c ON c.category = i.category"
)


def incident_record(con: duckdb.DuckDBPyConnection, incident_id: str) -> dict | None:
    frame = con.execute(f"SELECT {INCIDENT_FIELDS} FROM {INCIDENT_JOINS} WHERE i.incident_id = ?", [incident_id]).df()
    return None if frame.empty else frame.iloc[0].to_dict()


def incident_history(con: duckdb.DuckDBPyConnection, incident_id: str) -> pd.DataFrame:
    return con.execute(
        "SELECT event_id, from_status, to_status, occurred_at, actor, note FROM incident_events"
        " WHERE incident_id = ? ORDER BY occurred_at, event_id",
        [incident_id],
    ).df()


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
    """Incidents for Open311's GET requests: by time window, services, open/closed statuses or ids (a page of them)."""
    where, params = ["i.reported_at >= ? AND i.reported_at <= ?"], [start, end]
    if ids:
        where, params = [f"i.incident_id IN ({', '.join('?' * len(ids))})"], list(ids)
    if service_codes:
        where.append(f"i.category IN ({', '.join('?' * len(service_codes))})")
        params += service_codes
    if statuses:
        where.append(f"i.status IN ({', '.join('?' * len(statuses))})")
        params += statuses
    last = "(SELECT max(occurred_at) FROM incident_events e WHERE e.incident_id = i.incident_id) AS updated_at"
    return con.execute(
        f"SELECT {INCIDENT_FIELDS}, {last} FROM {INCIDENT_JOINS} WHERE {' AND '.join(where)}"
        " ORDER BY i.reported_at DESC, i.incident_id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).df()


def incident_status_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(con.execute("SELECT status, count(*) FROM incidents GROUP BY status ORDER BY status").fetchall())


def overdue_count(con: duckdb.DuckDBPyConnection, now) -> int:
    return con.execute("SELECT count(*) FROM open_incidents WHERE due_at < ?", [now]).fetchone()[0]


def token_incident(con: duckdb.DuckDBPyConnection, caller: str, token: str) -> tuple[str, str | None] | None:
    """(incident id, payload digest) a caller's token was first used with."""
    return con.execute(
        "SELECT incident_id, payload_sha256 FROM intake_tokens WHERE caller = ? AND token = ?", [caller, token]
    ).fetchone()


def save_token(con: duckdb.DuckDBPyConnection, caller: str, token: str, incident_id: str, digest: str) -> None:
    con.execute(
        "INSERT INTO intake_tokens (caller, token, incident_id, payload_sha256, created_at)"
        " VALUES (?, ?, ?, ?, now()::TIMESTAMP)",
        [caller, token, incident_id, digest],
    )


def insert_new_incident(con: duckdb.DuckDBPyConnection, row: dict, actor: str, note: str) -> None:
    """One new incident (an id never seen), its open state and its first history row: four small inserts.

    ``row`` holds every incidents column.  Intake takes this path instead of the batch upsert, which
    must look for earlier copies of each id.
    """
    columns = list(row)
    con.execute(
        f"INSERT INTO incidents ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", list(row.values())
    )
    con.execute(
        f"INSERT INTO open_incidents ({OPEN_COLUMNS}) VALUES ({', '.join('?' * len(OPEN_COLUMNS.split(',')))})",
        [row[c.strip()] for c in OPEN_COLUMNS.split(",")],
    )
    con.execute(
        "INSERT INTO incident_events (incident_id, from_status, to_status, occurred_at, actor, note)"
        " VALUES (?, NULL, 'reported', ?, ?, ?)",
        [row["incident_id"], row["reported_at"], actor, note],
    )


def apply_transition(
    con: duckdb.DuckDBPyConnection,
    incident_id: str,
    from_status: str,
    to_status: str,
    now,
    actor: str,
    note: str | None,
    satisfaction: int | None = None,
    assignee: tuple[str, str] | None = None,
    level: str | None = None,
) -> None:
    """Move one incident (status, resolution time, satisfaction, assignment) and append its history row.

    Call inside a transaction; ``from_status`` guards against a concurrent change.
    """
    changed = con.execute(
        f"""
        UPDATE incidents SET status = $to,
            resolved_at = CASE WHEN $to = 'resolved' THEN $now
                               WHEN {_TO_OPEN} THEN NULL
                               ELSE resolved_at END,
            satisfaction = CASE WHEN $to = 'evaluated' THEN $satisfaction
                                WHEN {_TO_OPEN} THEN NULL
                                ELSE satisfaction END
        WHERE incident_id = $id AND status = $from
        RETURNING incident_id
        """,
        {"to": to_status, "now": now, "satisfaction": satisfaction, "id": incident_id, "from": from_status},
    ).fetchall()
    if len(changed) != 1:
        raise GridtwinError(f"incident {incident_id} changed while you were acting on it: reload and try again")
    con.execute(
        "INSERT INTO incident_events (incident_id, from_status, to_status, occurred_at, actor, note)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [incident_id, from_status, to_status, now, actor, note],
    )
    if assignee is not None:
        con.execute(
            "INSERT OR REPLACE INTO assignments (incident_id, assignee_type, assignee, assigned_at, actor, level)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [incident_id, *assignee, now, actor, level],
        )
    sync_derived_tables(con, pd.DataFrame({"incident_id": [incident_id]}))
    bump_data_version(con)


def upsert_incidents(con: duckdb.DuckDBPyConnection, frame, grid_codes: pd.DataFrame, actor: str, note: str) -> int:
    """Write located incidents (with ``grid_index``) as one batch: new rows, their imported history, their open state.

    An id already stored keeps its status, times and history (a file must not reopen or rewrite what the loop
    did with it): only its descriptive fields (description, address) take the file's values when given.
    Returns how many rows were such already-stored ids.  History and open state of the new rows are built from
    the batch itself rather than read back from ``incidents``.
    """
    batch = as_arrow(frame)
    con.register("_batch", batch)
    try:
        existing = con.execute(
            "SELECT incident_id FROM incidents WHERE incident_id IN (SELECT incident_id FROM _batch)"
        ).fetchnumpy()["incident_id"]
        if len(existing):
            descriptive = [c for c in ("description", "address") if c in columns_of(batch)]
            if descriptive:
                updates = ", ".join(f"{c} = coalesce(b.{c}, incidents.{c})" for c in descriptive)
                con.execute(f"UPDATE incidents SET {updates} FROM _batch b WHERE incidents.incident_id = b.incident_id")
    finally:
        con.unregister("_batch")
    fresh = frame[~frame["incident_id"].isin(existing)] if len(existing) else frame
    if len(fresh):
        _insert_incidents(con, as_arrow(fresh), grid_codes, actor, note)
    return len(existing)


def _insert_incidents(con: duckdb.DuckDBPyConnection, batch, grid_codes: pd.DataFrame, actor: str, note: str) -> None:
    columns = [c for c in columns_of(batch) if c != "grid_index"]
    con.register("_batch", batch)
    con.register("_grid_codes", grid_codes)
    try:
        located = "_batch b LEFT JOIN _grid_codes g ON g.grid_index = b.grid_index"
        codes = ", ".join(f"g.{c}" for c in GRID_CODE_COLUMNS)
        con.execute(
            f"INSERT INTO incidents ({', '.join(columns)}, {', '.join(GRID_CODE_COLUMNS)})"
            f" SELECT {', '.join('b.' + c for c in columns)}, {codes} FROM {located}" + time_order("incidents", columns)
        )
        live = " AND NOT coalesce(b.archived, false)" if "archived" in columns else ""
        con.execute(
            f"INSERT INTO open_incidents ({OPEN_COLUMNS}) SELECT b.incident_id, b.category, b.status, b.priority,"
            f" b.reported_at, b.due_at, {codes} FROM {located} WHERE b.{OPEN_SQL}{live}"
        )
        if "resolved_at" in columns:
            satisfaction = "b.satisfaction" if "satisfaction" in columns else "NULL"
            con.execute(
                f"INSERT INTO resolutions ({RESOLVED_COLUMNS}) SELECT b.incident_id, b.resolved_at, b.reported_at,"
                f" b.status, {satisfaction}, {codes} FROM {located} WHERE b.resolved_at IS NOT NULL"
            )
        con.execute(
            """
            INSERT INTO incident_events (incident_id, from_status, to_status, occurred_at, actor, note)
            SELECT incident_id, NULL, 'reported', reported_at, $actor, $note FROM _batch
            UNION ALL
            SELECT incident_id, 'reported', status, coalesce(resolved_at, reported_at), $actor, $note
            FROM _batch WHERE status <> 'reported'
            """,
            {"actor": actor, "note": note},
        )
    finally:
        con.unregister("_batch")
        con.unregister("_grid_codes")


def sync_derived_tables(con: duckdb.DuckDBPyConnection, ids=None) -> None:
    """Bring ``open_incidents`` and ``resolutions`` in step with ``incidents``.

    For the given ids (a frame with incident_id), or all (then resolutions are rewritten in resolved_at order).
    """
    if ids is None:
        con.execute("DELETE FROM open_incidents")
        con.execute(f"INSERT INTO open_incidents SELECT {OPEN_COLUMNS} FROM incidents WHERE {OPEN_LIVE_SQL}")
        con.execute("DELETE FROM resolutions")
        con.execute(
            f"INSERT INTO resolutions SELECT {RESOLVED_COLUMNS} FROM incidents WHERE resolved_at IS NOT NULL"
            " ORDER BY resolved_at"
        )
        return
    con.register("_sync_ids", as_arrow(ids))
    try:
        for table, columns, condition in (
            ("open_incidents", OPEN_COLUMNS, OPEN_LIVE_SQL),
            ("resolutions", RESOLVED_COLUMNS, "resolved_at IS NOT NULL"),
        ):
            con.execute(f"DELETE FROM {table} WHERE incident_id IN (SELECT incident_id FROM _sync_ids)")
            con.execute(
                f"INSERT INTO {table} SELECT {columns} FROM incidents"
                f" WHERE {condition} AND incident_id IN (SELECT incident_id FROM _sync_ids)"
            )
    finally:
        con.unregister("_sync_ids")


def advance_open_incidents(con: duckdb.DuckDBPyConnection, n: int, now, actor: str, seed: int) -> int:
    """Move ``n`` randomly chosen open incidents one step along the loop, with their history rows."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _advance AS
        SELECT incident_id, status AS from_status, {NEXT_STATUS_SQL} AS to_status FROM incidents
        WHERE incident_id IN (SELECT incident_id FROM open_incidents WHERE reported_at <= $now
                              ORDER BY hash(incident_id, $seed) LIMIT $n)
        """,
        {"now": now, "seed": seed, "n": n},
    )
    con.execute(
        """
        INSERT INTO incident_events (incident_id, from_status, to_status, occurred_at, actor, note)
        SELECT incident_id, from_status, to_status, $now, $actor, '实时流转' FROM _advance
        """,
        {"now": now, "actor": actor},
    )
    con.execute(
        """
        UPDATE incidents SET status = a.to_status,
            resolved_at = CASE WHEN a.to_status = 'resolved' THEN $now ELSE incidents.resolved_at END
        FROM _advance a WHERE incidents.incident_id = a.incident_id
        """,
        {"now": now},
    )
    moved = con.execute("SELECT count(*) FROM _advance").fetchone()[0]
    sync_derived_tables(con, con.execute("SELECT incident_id FROM _advance").df())
    con.execute("DROP TABLE _advance")
    return moved


def handling_stats(cur, since: dt.datetime, now: dt.datetime) -> dict:
    """Average handling time and on-time rate of what was resolved since ``since``, from the history."""
    row = cur.execute(
        """
        WITH done AS (
            SELECT e.incident_id, max(e.occurred_at) AS resolved_at FROM incident_events e
            WHERE e.to_status = 'resolved' AND e.occurred_at >= ? AND e.occurred_at <= ? GROUP BY 1),
        opened AS (
            SELECT e.incident_id, min(e.occurred_at) AS reported_at FROM incident_events e
            WHERE e.incident_id IN (SELECT incident_id FROM done) GROUP BY 1)
        SELECT count(*), avg(epoch(d.resolved_at - o.reported_at) / 3600.0),
               avg(CASE WHEN d.resolved_at <= i.due_at THEN 1.0 ELSE 0.0 END)
        FROM done d JOIN opened o USING (incident_id) JOIN incidents i USING (incident_id)
        """,
        [since, now],
    ).fetchone()
    return {"resolved": row[0], "avg_handling_h": row[1], "on_time_rate": row[2], "since": since.isoformat()}
