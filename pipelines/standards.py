"""Which facility types a complete life circle needs (service_standards family, load-path side).

Standard types (GB 50180-2018, :data:`pipelines.domain.SERVICE_STANDARDS`) are required.  A type a file brings
that the table does not know is added as OPTIONAL (:data:`CUSTOM_TIER`): it gets its own coverage figures but
does not change the "x / 8" completeness, unless it is marked required (``gridtwin coverage --require TYPE``).
"""

from __future__ import annotations

from pipelines.domain import SERVICE_STANDARDS

CUSTOM_TIER = (15, False)
"""A type the standards do not name: 15-minute circle, not required."""

MARK_REQUIRED_SQL = "INSERT INTO service_standards VALUES (?, ?, true) ON CONFLICT (type) DO UPDATE SET required = true"
REQUIRED_TYPES_SQL = "SELECT type FROM service_standards WHERE required ORDER BY type"
"""service_standards family; belongs beside store.service_standards once merged."""


def mark_required(con, types: list[str]) -> None:
    for kind in types:
        con.execute(MARK_REQUIRED_SQL, [kind, SERVICE_STANDARDS.get(kind, CUSTOM_TIER)[0]])


def required_types(con) -> list[str]:
    return [row[0] for row in con.execute(REQUIRED_TYPES_SQL).fetchall()]
