"""Cold incident history: the part of an archive older than the database's hot period, read by DuckDB.

The database keeps the hot period (incidents reported from ``hot_start``, its earliest report, on); a
GeoParquet archive written by `gridtwin export` (see :mod:`pipelines.archive.export`) keeps older years.
For a query window that reaches before ``hot_start``, :meth:`ColdHistory.cursor` gives a cursor on
which ``incidents`` and ``resolutions`` are temporary views: the database's rows plus the archive's rows
reported before ``hot_start``, read with ``read_parquet(…, hive_partitioning = true)`` and a filter on the
``month`` partition column, so that DuckDB opens only the partitions the window can touch.  Which months
those are comes from the archive manifest's per-partition ranges of ``due_at`` and ``resolved_at``
(exact; without a manifest every month is read).  Queries written for the database (e.g.
:func:`pipelines.store.loop_indicators.indicators`) run unchanged on that cursor, and give what they give
on one database holding all the history (tested).  Governance tables (核查, 吹哨, 议事) are not archived.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import duckdb

from pipelines.store.archive import PRIVATE_COLUMNS
from pipelines.store.schema import RESOLVED_COLUMNS

_MONTH = re.compile(r"^(\d{4}-\d{2}|_)$")
_ARCHIVE_ONLY = "geometry, bbox, district, month"


@dataclass
class ColdHistory:
    root: str
    """Archive folder or URL (local paths are tested; DuckDB reads s3:// with its httpfs extension)."""
    hot_start: dt.datetime | None
    """The earliest report in the database: windows from here on need no archive."""
    ranges: dict[str, dict] = field(default_factory=dict)
    """month → {'due_min', 'due_max', 'resolved_min', 'resolved_max'} over its partitions (ISO text)."""

    @classmethod
    def open(cls, con: duckdb.DuckDBPyConnection, root: str, manifest: dict) -> ColdHistory:
        hot_start = con.execute("SELECT min(reported_at) FROM incidents").fetchone()[0]
        ranges: dict[str, dict] = {}
        for relative, entry in manifest.items():
            if not relative.startswith("incidents/"):
                continue
            month = relative.split("month=", 1)[1].split("/", 1)[0]
            merged = ranges.setdefault(month, {})
            for key in ("due_min", "resolved_min"):
                if entry.get(key) is not None:
                    merged[key] = min(merged.get(key, entry[key]), entry[key])
            for key in ("due_max", "resolved_max"):
                if entry.get(key) is not None:
                    merged[key] = max(merged.get(key, entry[key]), entry[key])
        return cls(root.rstrip("/"), hot_start, ranges)

    def reaches(self, since: dt.datetime) -> bool:
        """Whether a window starting at ``since`` needs the archive."""
        return self.hot_start is None or since < self.hot_start

    def months(self, since: dt.datetime, until: dt.datetime) -> list[str] | None:
        """Months whose incidents may be reported (the partition's month), fall due or be resolved in
        [since, until); None: all (no manifest)."""
        if not self.ranges:
            return None
        lo, hi = since.isoformat(timespec="microseconds"), until.isoformat(timespec="microseconds")
        first, last = f"{since:%Y-%m}", f"{until:%Y-%m}"
        return sorted(
            month
            for month, r in self.ranges.items()
            if first <= month <= last
            or any(
                r.get(f"{c}_min") is not None and r[f"{c}_min"] < hi and r[f"{c}_max"] >= lo
                for c in ("due", "resolved")
            )
        )

    @contextlib.contextmanager
    def cursor(self, con: duckdb.DuckDBPyConnection, since: dt.datetime, until: dt.datetime) -> Iterator:
        """A cursor whose ``incidents`` and ``resolutions`` hold hot and cold history for [since, until)."""
        cur = con.cursor()
        try:
            database = cur.execute("SELECT current_database()").fetchone()[0].replace('"', '""')
            cold = self._cold_sql(self.months(since, until))
            cur.execute(
                f"CREATE OR REPLACE TEMP VIEW incidents AS"
                f' SELECT * EXCLUDE ({", ".join(PRIVATE_COLUMNS)}) FROM "{database}".main.incidents'
                f" UNION ALL BY NAME {cold}"
            )
            cur.execute(
                f'CREATE OR REPLACE TEMP VIEW resolutions AS SELECT {RESOLVED_COLUMNS} FROM "{database}".main.resolutions'
                f" UNION ALL BY NAME SELECT {RESOLVED_COLUMNS} FROM ({cold}) WHERE resolved_at IS NOT NULL"
            )
            yield cur
        finally:
            cur.close()

    def _cold_sql(self, months: list[str] | None) -> str:
        glob = f"{self.root}/incidents/district=*/month=*/*.parquet".replace("'", "''")
        if months is not None and not months:
            return f"SELECT * EXCLUDE ({_ARCHIVE_ONLY}) FROM read_parquet('{glob}') WHERE false"
        if months is not None and not all(_MONTH.match(m) for m in months):
            raise ValueError(f"unexpected partition months in the archive manifest: {months}")
        pruning = "" if months is None else " AND month IN (" + ", ".join(f"'{m}'" for m in months) + ")"
        before = "" if self.hot_start is None else f" AND reported_at < TIMESTAMP '{self.hot_start.isoformat(sep=' ')}'"
        return (
            f"SELECT * EXCLUDE ({_ARCHIVE_ONLY}) FROM read_parquet('{glob}', hive_partitioning = true,"
            f" hive_types = {{'district': VARCHAR, 'month': VARCHAR}}, union_by_name = true) WHERE true{pruning}{before}"
        )
