"""What a user may say about a file beyond its columns: value mappings, dates, merging, history, densities."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

DEFAULT_TZ = "Asia/Shanghai"
"""Time zone of a new database, and of a file's naive times when neither --tz nor the database says otherwise."""


@dataclass
class LoadOptions:
    values: dict[str, dict[str, str | None]] = field(default_factory=dict)
    """column → {value in the file → our value}; from --value and --values FILE."""
    date_order: str | None = None
    """'dayfirst', 'monthfirst', or None (decided from each column's values)."""
    tz: str | None = None
    """Zone of naive times in the file (default: the database's zone)."""
    merge_parts: bool | None = None
    """Merge features sharing an id into one (Multi)geometry; None: only for OpenStreetMap ids."""
    archive_before: dt.datetime | None = None
    """Open incidents reported before this are stored as archived (no deadline) instead of overdue."""
    deadlines: dict[str, int] = field(default_factory=dict)
    """category → deadline in hours, set before the deadlines are computed."""
    allow_closed_without_time: bool = False
    densities: dict[str, float] = field(default_factory=dict)
    """Building use (or residential/mixed/unknown/other) → persons per m² of floor area."""
