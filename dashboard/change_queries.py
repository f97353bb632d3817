"""What moved between two data versions: the SQL :class:`dashboard.models.shared.SharedResults` follows writes with.

Every write of incidents adds its ``incident_events`` in the transaction that bumps ``meta.data_version``, and
event ids only grow: the events after the last one seen name the incidents, hence the units, a new version moved.
"""

from __future__ import annotations

import duckdb

from dashboard.queries import LEVELS
from pipelines.store.meta import REFERENCE_VERSION


def changes_since(con: duckdb.DuckDBPyConnection, event_id: int, limit: int) -> tuple[int, int, int, list | None]:
    """(data version, reference version, last event id, incidents with an event after ``event_id``), read in one
    snapshot, so the incidents are exactly those the writes up to that data version moved (``None``: more than
    ``limit``).  Every incident write adds its events in the transaction that bumps the data version."""
    row = con.execute(
        """
        SELECT (SELECT value FROM meta WHERE key = 'data_version'), (SELECT value FROM meta WHERE key = $ref),
               coalesce((SELECT max(event_id) FROM incident_events WHERE event_id > $after), $after),
               count(*) <= $limit, list(DISTINCT incident_id)
        FROM (SELECT incident_id FROM incident_events WHERE event_id > $after LIMIT $limit + 1)
        """,
        {"ref": REFERENCE_VERSION, "after": event_id, "limit": limit},
    ).fetchone()
    return int(row[0] or 0), int(row[1] or 0), int(row[2]), (row[4] or []) if row[3] else None


def last_event(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT coalesce(max(event_id), 0) FROM incident_events").fetchone()[0])


def incident_units(con: duckdb.DuckDBPyConnection, ids: list[str]) -> set[tuple[str, str | None]]:
    """Every unit (city, district, street, community, grid) that holds one of the incidents ``ids``."""
    rows = con.execute(
        "SELECT DISTINCT district_code, street_code, community_code, grid_code FROM incidents"
        " WHERE incident_id = ANY(?::VARCHAR[])",
        [ids],
    ).fetchall()
    units: set[tuple[str, str | None]] = {("city", None)} if ids else set()
    for row in rows:
        units.update(zip(LEVELS[1:], row, strict=True))
    return units
