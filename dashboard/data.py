"""The dashboard's view of the database: one shared DuckDB connection, a query pool, and four models.

The server process owns the database file; every read goes through a cursor of the one connection so
Flask's threads can query at once.  The models (:mod:`dashboard.models`) share it:

- ``data.shapes`` — :class:`~dashboard.models.shapes.ShapeCache` (outlines, roads, buildings, names);
- ``data.live`` — :class:`~dashboard.models.live.LiveModel` (KPIs, ticker, panels, map data, ranking, playback);
- ``data.planner`` — :class:`~dashboard.models.planner.CoveragePlanner` (coverage, what-if, sites);
- ``data.party`` — :class:`~dashboard.models.party.PartyModel` (党建引领 tables, map, people, service areas).

``data.shared`` (:class:`~dashboard.models.shared.SharedResults`) holds the views' results per data version,
so clients asking for the same unit at once cost one computation.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from dashboard import change_queries
from dashboard.models.live import LiveModel
from dashboard.models.party import PartyModel
from dashboard.models.planner import CoveragePlanner
from dashboard.models.shapes import ShapeCache
from dashboard.models.shared import Changes, QueryPool, SharedResults
from pipelines.store import Database

log = logging.getLogger(__name__)


class DashboardData:
    """The connection, the clock and the query pool that the models share."""

    def __init__(self, db_path: str | Path, clock: Callable[[], dt.datetime] | None = None):
        self.db_path = Path(db_path)
        self.db = Database(self.db_path)  # owns the connection and the one write lock
        self.con = self.db.con
        self.clock = clock or (lambda: dt.datetime.now().replace(microsecond=0))
        # DuckDB runs queries outside the GIL: independent panels are answered side by side
        self.pool = QueryPool(4, thread_name_prefix="gridtwin-query")
        self.shapes = ShapeCache(self)
        self.live = LiveModel(self, self.shapes)
        self.planner = CoveragePlanner(self)
        self.party = PartyModel(self, self.shapes, self.planner)
        # the views' results, computed once per (view, arguments, data version) and shared between clients
        changes = Changes(
            self.live.version,
            lambda event, limit: self.run(change_queries.changes_since, event, limit),
            lambda ids: self.run(change_queries.incident_units, ids),
        )
        self.shared = SharedResults(changes, self.clock, start_event=self.run(change_queries.last_event))
        self.warmed = threading.Event()  # set once warm() has finished, whether or not every cache was built
        self.cold = None  # serve --archive: older history, for windows before the file's (run_span)

    def cursor(self):
        return self.con.cursor()

    def run(self, query, *args, **kwargs):
        """``query(cursor, *args, **kwargs)`` on a cursor of its own: safe from any thread (e.g. the query pool)."""
        with self.cursor() as cur:
            return query(cur, *args, **kwargs)

    def reaches_archive(self, since: dt.datetime) -> bool:
        """A span starting at ``since`` reads the archive's older history too (``serve --archive``)."""
        return self.cold is not None and self.cold.reaches(since)

    def run_span(self, since: dt.datetime, until: dt.datetime, query, *args, **kwargs):
        """:meth:`run` for a query over incidents and resolutions in [since, until): a span that starts before the
        file's hot period also reads the archive's older history (``serve --archive``, :mod:`pipelines.store.cold`)."""
        if not self.reaches_archive(since):
            return self.run(query, *args, **kwargs)
        with self.cold.cursor(self.con, since, until) as cur:
            return query(cur, *args, **kwargs)

    def warm(self) -> None:
        """Build the slow-to-build caches before the first page asks (run on a background thread)."""
        try:
            self.shapes.warm()
            self.planner.warm()  # the area table and the walking network the planner and the party page use
            self.party.warm()
        except Exception:  # a cache left cold is built on first use; the server must not care
            log.warning("warming the caches failed; they are built on first use", exc_info=True)
        finally:
            self.warmed.set()

    def close(self) -> None:
        self.shared.close()
        self.pool.shutdown(wait=True)
        self.con.close()
