"""The SQL that reads a database for its GeoParquet archive (see :mod:`pipelines.archive.export`).

A partition is an incident's district (``_`` without one) and the month it was reported; events go with
their incident.  A fingerprint is the row count and the XOR of every row's hash: it changes when any row
of the partition is added, removed or changed, and costs one grouped scan.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

PRIVATE_COLUMNS = ("reporter_name", "reporter_phone")
"""Kept only in the database (masked on screen): an archive on shared storage must not carry them."""

_PARTITION = "coalesce(i.district_code, '_') AS district, coalesce(strftime(i.reported_at, '%Y-%m'), '_') AS month"
_FINGERPRINTS = {
    "incidents": f"""SELECT {_PARTITION}, count(*) AS n, bit_xor(hash(i)) AS h,
        strftime(min(i.due_at), '%Y-%m-%dT%H:%M:%S.%f') AS due_min, strftime(max(i.due_at), '%Y-%m-%dT%H:%M:%S.%f') AS due_max,
        strftime(min(i.resolved_at), '%Y-%m-%dT%H:%M:%S.%f') AS resolved_min,
        strftime(max(i.resolved_at), '%Y-%m-%dT%H:%M:%S.%f') AS resolved_max
        FROM incidents i GROUP BY ALL""",
    "incident_events": f"""SELECT {_PARTITION}, count(*) AS n, bit_xor(hash(e)) AS h
        FROM incident_events e JOIN incidents i USING (incident_id) GROUP BY ALL""",
}
_WHERE = "coalesce(i.district_code, '_') = $district AND coalesce(strftime(i.reported_at, '%Y-%m'), '_') = $month"
_ROWS = {
    "incidents": f"SELECT i.* EXCLUDE ({', '.join(PRIVATE_COLUMNS)}) FROM incidents i WHERE {_WHERE}"
    " ORDER BY i.h3_cell, i.incident_id",
    "incident_events": f"SELECT e.* FROM incident_events e JOIN incidents i USING (incident_id) WHERE {_WHERE}"
    " ORDER BY i.h3_cell, e.incident_id, e.occurred_at, e.event_id",
}
_LAYERS = {
    "grids": "SELECT * FROM grids ORDER BY grid_code",
    "buildings": "SELECT * FROM buildings ORDER BY h3_cell, building_id",
    "facilities": "SELECT * FROM facilities ORDER BY h3_cell, facility_id",
}


def partition_fingerprints(con: duckdb.DuckDBPyConnection, table: str) -> list[dict]:
    """district, month, rows (n), fingerprint (h) of every partition of ``incidents`` or ``incident_events``;
    for incidents also the range of ``due_at`` and ``resolved_at`` (ISO text, None when all null), which lets
    a reader pick the partitions a window on those columns can touch."""
    cursor = con.execute(_FINGERPRINTS[table])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def partition_rows(con: duckdb.DuckDBPyConnection, table: str, district: str, month: str) -> pa.Table:
    """One partition's rows sorted by H3 cell (events by their incident's cell), private columns left out."""
    return con.execute(_ROWS[table], {"district": district, "month": month}).to_arrow_table()


def layer_fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    if table not in _LAYERS:
        raise ValueError(f"not an archived layer: {table}")
    return con.execute(f"SELECT count(*), bit_xor(hash(t)) FROM {table} t").fetchone()


def layer_rows(con: duckdb.DuckDBPyConnection, table: str) -> pa.Table:
    """A layer's rows, points sorted by H3 cell, grids by code."""
    return con.execute(_LAYERS[table]).to_arrow_table()
