"""Which facility types a complete life circle needs (service_standards family, load-path side).

Standard types (GB 50180-2018, :data:`pipelines.domain.SERVICE_STANDARDS`) are required.  A type a file brings
that the table does not know is added as OPTIONAL (:data:`CUSTOM_TIER`): it gets its own coverage figures but
does not change the "x / 8" completeness, unless it is marked required (``gridtwin coverage --require TYPE``).
"""

from __future__ import annotations

from pipelines.domain import SERVICE_STANDARDS
from pipelines.store.coverage import required_types, set_required

__all__ = ["CUSTOM_TIER", "mark_required", "required_types"]

CUSTOM_TIER = (15, False)
"""A type the standards do not name: 15-minute circle, not required."""


def mark_required(con, types: list[str]) -> None:
    """Make these types required for a complete life circle (a type not yet known gets its standard tier)."""
    set_required(con, {kind: SERVICE_STANDARDS.get(kind, CUSTOM_TIER)[0] for kind in types})
