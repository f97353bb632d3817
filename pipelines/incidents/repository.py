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
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.errors import GridtwinError
from pipelines.incidents import bulk
from pipelines.incidents.machine import next_status_sql
from pipelines.incidents.recent import append_recent, append_recent_rows, rebuild_recent, sync_recent
from pipelines.store import loop_rollup
from pipelines.store.meta import bump_data_version
from pipelines.store.rows import as_arrow
from pipelines.store.schema import OPEN_COLUMNS, RESOLVED_COLUMNS
from pipelines.vocabulary import OPEN_LIVE_SQL, OPEN_STATUSES, sql_in

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


def incident_status_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(con.execute("SELECT status, count(*) FROM incidents GROUP BY status ORDER BY status").fetchall())


def overdue_count(con: duckdb.DuckDBPyConnection, now) -> int:
    return con.execute("SELECT count(*) FROM open_incidents WHERE due_at < ?", [now]).fetchone()[0]


def intake_clashes(
    con: duckdb.DuckDBPyConnection, ids: list[str], start, end, keys: list[tuple[str, str]]
) -> tuple[set[str], dict[tuple[str, str], tuple[str, str | None]]]:
    """What a group of new reports clashes with, in one statement: which of the new ``ids`` are stored among
    the incidents reported in [start, end] (a time-pruned look-up), and the (incident id, payload digest) each
    (caller, token) of ``keys`` was first used with, for the tokens already used."""
    callers, tokens = (list(column) for column in zip(*keys, strict=True)) if keys else ([], [])
    rows = con.execute(
        "SELECT incident_id, NULL, NULL, NULL FROM incidents WHERE reported_at >= $start AND reported_at <= $end"
        " AND incident_id IN (SELECT unnest($ids::VARCHAR[]))"
        " UNION ALL SELECT t.incident_id, t.caller, t.token, t.payload_sha256 FROM intake_tokens t"
        " JOIN (SELECT unnest($callers::VARCHAR[]) AS caller, unnest($tokens::VARCHAR[]) AS token) k"
        " ON k.caller = t.caller AND k.token = t.token",
        {"start": start, "end": end, "ids": ids, "callers": callers, "tokens": tokens},
    ).fetchall()
    taken = {incident_id for incident_id, caller, _, _ in rows if caller is None}
    used = {(caller, token): (incident_id, digest) for incident_id, caller, token, digest in rows if caller is not None}
    return taken, used


def insert_tokens(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, str, str, str]]) -> None:
    """Store (caller, token, incident id, payload digest) rows of tokens not used before, in one statement
    (checked by :func:`intake_clashes` under the same write lock; the primary key still refuses a repeat)."""
    if rows:
        _insert_values(
            con,
            "intake_tokens (caller, token, incident_id, payload_sha256, created_at)",
            "(?, ?, ?, ?, now()::TIMESTAMP)",
            list(rows),
        )


_OPEN_COLUMN_LIST = [c.strip() for c in OPEN_COLUMNS.split(",")]


def insert_new_incidents(con: duckdb.DuckDBPyConnection, rows: list[dict], actors: list[str], note: str) -> None:
    """New incidents (ids never seen), their open state and first history rows: one insert per table.

    Every row holds the same incidents columns; ``actors[k]`` reported ``rows[k]``.  Intake takes this
    path instead of the batch upsert, which must look for earlier copies of each id.
    """
    if not rows:
        return
    columns = list(rows[0])
    marks = f"({', '.join('?' * len(columns))})"
    _insert_values(con, f"incidents ({', '.join(columns)})", marks, [list(r.values()) for r in rows])
    open_marks = f"({', '.join('?' * len(_OPEN_COLUMN_LIST))})"
    _insert_values(
        con, f"open_incidents ({OPEN_COLUMNS})", open_marks, [[r[c] for c in _OPEN_COLUMN_LIST] for r in rows]
    )
    _insert_values(
        con,
        "incident_events (incident_id, from_status, to_status, occurred_at, actor, note)",
        "(?, NULL, 'reported', ?, ?, ?)",
        [[r["incident_id"], r["reported_at"], actor, note] for r, actor in zip(rows, actors, strict=True)],
    )
    loop_rollup.add_incident_rows(con, rows)
    append_recent_rows(con, rows)


def _insert_values(con: duckdb.DuckDBPyConnection, target: str, marks: str, rows: list) -> None:
    """``INSERT INTO target VALUES marks, marks, …`` with every row's values bound (one statement)."""
    con.execute(
        f"INSERT INTO {target} VALUES {', '.join([marks] * len(rows))}", [value for row in rows for value in row]
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
    bump_data_version(con, reference=False)


def upsert_incidents(
    con: duckdb.DuckDBPyConnection, frame, grid_codes: pd.DataFrame, actor: str, note: str, timings: dict | None = None
) -> int:
    """Write located incidents (with ``grid_index``) as one batch: new rows, their imported history, their open state.

    An id already stored keeps its status, times and history (a file must not reopen or rewrite what the loop
    did with it): only its descriptive fields (description, address) take the file's values when given.
    Returns how many rows were such already-stored ids.  History and open state of the new rows are built from
    the batch itself rather than read back from ``incidents`` (:mod:`pipelines.incidents.bulk`); ``timings``
    receives the seconds of each stage.
    """
    with bulk.stage(timings, "pandas to Arrow"):
        batch = bulk.batch_table(frame)
    with bulk.stage(timings, "ids already stored"):
        existing = _update_existing(con, batch)
    fresh = batch.filter(pc.invert(pc.is_in(batch["incident_id"], value_set=existing))) if len(existing) else batch
    if len(fresh):
        rows = bulk.insert_incidents(
            lambda table, rows: append_arrow(con, table, rows), fresh, grid_codes, actor, note, timings
        )
        with bulk.stage(timings, "loop roll-ups"):
            loop_rollup.add_incidents(con, rows)
        with bulk.stage(timings, "recent_incidents"):
            append_recent(con, rows)
    return len(existing)


def _update_existing(con: duckdb.DuckDBPyConnection, batch: pa.Table) -> pa.Array:
    """The batch's ids already stored; their description and address take the batch's values where given."""
    descriptive = [c for c in ("description", "address") if c in batch.column_names]
    con.register("_batch", batch.select(["incident_id", *descriptive]))
    try:
        existing = con.execute(
            "SELECT incident_id FROM incidents WHERE incident_id IN (SELECT incident_id FROM _batch)"
        ).to_arrow_table()["incident_id"]
        if len(existing) and descriptive:
            updates = ", ".join(f"{c} = coalesce(b.{c}, incidents.{c})" for c in descriptive)
            con.execute(f"UPDATE incidents SET {updates} FROM _batch b WHERE incidents.incident_id = b.incident_id")
    finally:
        con.unregister("_batch")
    return existing.combine_chunks()


BATCH_ROWS = 122_880
"""DuckDB's row-group size: an Arrow table cut into batches of this many rows is scanned and stored by every
thread at once (one big batch is stored by one thread)."""


def append_arrow(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    """``INSERT INTO table`` the Arrow rows, cut into row-group sized batches."""
    if len(rows) == 0:
        return
    batches = pa.Table.from_batches(rows.to_batches(max_chunksize=BATCH_ROWS), rows.schema)  # slices, no copy
    con.register("_rows", batches)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(batches.column_names)}) SELECT * FROM _rows")
    finally:
        con.unregister("_rows")


def sync_derived_tables(con: duckdb.DuckDBPyConnection, ids=None) -> None:
    """Bring ``open_incidents``, ``resolutions``, ``loop_daily`` and ``recent_incidents`` in step with ``incidents``.

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
        loop_rollup.rebuild(con)
        rebuild_recent(con)
        return
    con.register("_sync_ids", as_arrow(ids))
    try:  # the incidents' rows are read once (a scan of the incident ids), then every table reads the copy
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _sync_rows AS SELECT * FROM incidents"
            " WHERE incident_id IN (SELECT incident_id FROM _sync_ids)"
        )
        with loop_rollup.kept(con, "_sync_rows"):
            for table, columns, condition in (
                ("open_incidents", OPEN_COLUMNS, OPEN_LIVE_SQL),
                ("resolutions", RESOLVED_COLUMNS, "resolved_at IS NOT NULL"),
            ):
                con.execute(f"DELETE FROM {table} WHERE incident_id IN (SELECT incident_id FROM _sync_rows)")
                con.execute(f"INSERT INTO {table} SELECT {columns} FROM _sync_rows WHERE {condition}")
            sync_recent(con, "_sync_rows")
        con.execute("DROP TABLE _sync_rows")
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
