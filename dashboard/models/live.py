"""The live-panel model: what the command center, the leader view and playback show, as frames.

Independent panels are queried side by side on the shared query pool (DuckDB runs queries outside the GIL),
each on its own cursor of the one connection.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from dashboard import duty_queries, kpi_queries, queries
from dashboard.components.urls import parse_day
from dashboard.models.reference import ReferenceCache
from dashboard.models.unit_rows import (
    CHILD_COUNTS,
    Newest,
    UnitRows,
    child_counts,
    first_rows,
    hourly,
    replace_incidents,
    unit_kpis,
    with_closure_rate,
)

WINDOWS = {"1h": dt.timedelta(hours=1), "24h": dt.timedelta(hours=24), "7d": dt.timedelta(days=7)}
MAX_CELLS = 4000
SMALL_LEVELS = ("street", "community", "grid")
"""Units whose week of incidents is small enough to fetch once (from ``recent_incidents``, in grid order: a
unit's rows are neighbours) and aggregate in memory: a city street's week is ~1,000 rows, where the SQL panels
scan the whole city's week (time order) once per panel."""
TICKER_SIZE = 8
GRID_OPEN_LISTED = 50
"""Open incidents listed in the grid detail panel (the most urgent first)."""
RECENT_MINUTES = 3
"""Incidents this recent are highlighted on the map and flagged in the ticker."""


WEEK = dt.timedelta(days=7)
KEPT_S = 600.0
"""How long (by the data's clock) a small unit's fetched rows serve its panels at one data version."""
MARGIN = dt.timedelta(seconds=KEPT_S)
"""The rows are fetched this much wider than the week on both sides, so they cover every week the clock
reaches while they are kept."""


class LiveModel:
    """KPIs, ticker, side panels, map data, ranking and playback of one unit."""

    def __init__(self, db, shapes):
        self._db = db
        self.shapes = shapes
        self._reference = ReferenceCache(db)  # what reads only reference data (grid workers per unit)

    def clock(self) -> dt.datetime:
        return self._db.clock()

    def _run(self, query, *args):
        return self._db.run(query, *args)

    def per_version(self, name: str, key: tuple, level: str, code: str | None, read):
        """``read()`` once per data version for the unit (level, code): a part that does not move with the clock,
        kept while writes touch other units (the city's: until any write) and at most ``KEPT_S`` by the clock."""
        return self._db.shared.get(name, key, read, None if level == "city" else (level, code), KEPT_S)

    def version(self) -> int:
        """The change counter (bumped by every write that a page shows)."""
        return self._run(queries.data_version)

    def latest_day(self) -> dt.date:
        end = self._run(queries.data_end)
        now = self.clock()
        return min(end, now).date() if end else now.date()

    def window_bounds(self, window: str, custom: tuple[str, str] | None = None) -> tuple[dt.datetime, dt.datetime]:
        now = self.clock()
        start_day, end_day = (parse_day(custom[0]), parse_day(custom[1])) if custom else (None, None)
        if window == "custom" and start_day:
            start = dt.datetime.combine(start_day, dt.time())
            end = dt.datetime.combine(end_day, dt.time()) + dt.timedelta(days=1) if end_day else now
            return start, min(end, now)
        return now - WINDOWS.get(window, WINDOWS["24h"]), now

    # --- map -----------------------------------------------------------------
    def indicators(self, level: str, code: str | None, since: dt.datetime) -> pd.DataFrame:
        children = self.shapes.children(level, code)["frame"]
        now = self.clock()
        if level in ("street", "community") and since >= now - WEEK:  # its children's counts from its rows
            column = queries.CODE_COLUMN[queries.CHILD[level]]
            counts = child_counts(self.unit_rows(level, code, now), column, since, now)
        else:
            frame = self._db.run_span(since, now, queries.child_indicators, level, code, since, now)
            codes = frame["code"].tolist()
            counts = {name: dict(zip(codes, frame[name].tolist(), strict=True)) for name in CHILD_COUNTS}
        merged = children[["code", "name", "population"]].copy()
        codes = merged["code"].tolist()
        for name in CHILD_COUNTS:  # a few hundred children at most: looked up, not merged
            merged[name] = np.array([counts[name].get(c, 0) for c in codes], dtype=np.int64)
        population = pd.to_numeric(merged["population"], errors="coerce")
        merged["per_1000"] = (1000 * merged["window_count"] / population.where(population > 0)).round(2)
        return merged

    def cells(self, level, code, res, since, until, outlines: bool = True) -> tuple[pd.DataFrame, dict | None]:
        """Reports per H3 cell in [since, until) with each cell's id and centre, and (``outlines``) the cells as
        GeoJSON: the heat layer needs only the centres."""
        frame = self._db.run_span(since, until, queries.cell_counts, level, code, res, since, until, MAX_CELLS)
        shapes = self.shapes.hexagons(frame["cell"].to_numpy(np.uint64))
        ids, geometries, lons, lats = zip(*shapes, strict=True) if shapes else ((), (), (), ())
        frame = frame.assign(id=list(ids), lon=list(lons), lat=list(lats))
        if not outlines:
            return frame, None
        features = [
            {"type": "Feature", "id": i, "properties": {}, "geometry": g} for i, g in zip(ids, geometries, strict=True)
        ]
        return frame, {"type": "FeatureCollection", "features": features}

    def recent(self, level, code) -> pd.DataFrame:
        now = self.clock()
        frame = self._run(queries.recent_points, level, code, now - dt.timedelta(minutes=RECENT_MINUTES), 50)
        return frame[frame["reported_at"] <= now]

    # --- side panels -----------------------------------------------------------
    def kpis(self, level, code, parts: tuple[str, ...] = kpi_queries.KPI_PARTS) -> dict:
        now = self.clock()
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        values = self._run(kpi_queries.kpis, level, code, day_start, now, parts)
        return with_closure_rate(values) if "reported" in parts else values

    def ticker(self, level, code) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(newest incidents, most overdue open incidents) with their community and grid names."""
        now = self.clock()
        return self.shapes.named(self.newest(level, code, now)), self.shapes.named(self.most_overdue(level, code, now))

    def newest(self, level: str, code: str | None, now: dt.datetime) -> pd.DataFrame:
        """``queries.newest``: the unit's newest reports and those after them within ``MARGIN`` read once per data
        version (kept while writes touch other units), the newest up to ``now`` cut at each refresh."""
        kept = self.per_version("newest-rows", (level, code), level, code, lambda: self._newest_rows(level, code))
        if not kept.start <= now <= kept.end:  # a clock set back, or moved past the margin
            return self._run(queries.newest, level, code, now)
        at = kept.rows["reported_at"].to_numpy()
        shown = kept.rows[(at <= np.datetime64(now)) & (at >= np.datetime64(now - WEEK))]
        return first_rows(shown, "reported_at", TICKER_SIZE, latest=True)

    def _newest_rows(self, level: str, code: str | None) -> Newest:
        """The newest reports at the clock, and every report after it within ``MARGIN``: the newest at any later
        clock within it are among these (a report newer than the clock's newest is either one of them or after)."""
        start = self.clock()
        end = start + MARGIN
        after = self._db.pool.submit(self._run, queries.reports_after, level, code, start, end)
        rows = self._run(queries.newest, level, code, start, TICKER_SIZE)
        later = after.result()
        return Newest(start, end, pd.concat([rows, later], ignore_index=True) if len(later) else rows)

    def most_overdue(self, level: str, code: str | None, now: dt.datetime) -> pd.DataFrame:
        """``queries.most_overdue``: the unit's earliest deadlines read once per data version (kept while writes
        touch other units), those before ``now`` cut at each refresh."""
        first = self.per_version(
            "first-due", (level, code), level, code, lambda: self._run(queries.first_due, level, code, TICKER_SIZE)
        )
        return first[first["due_at"].to_numpy() < np.datetime64(now)].reset_index(drop=True)

    def categories(self, level, code, since):
        now = self.clock()
        return self._db.run_span(since, now, queries.category_counts, level, code, since, now)

    def trend(self, level, code, now: dt.datetime | None = None) -> pd.DataFrame:
        """The 24-hour trend: its 23 whole hours and the running hour's times read once per data version and hour
        (kept while writes touch other units); the running hour counted up to the clock at every refresh."""
        now = now or self.clock()
        top = now.replace(minute=0, second=0, microsecond=0)
        key, hour = (level, code, top), dt.timedelta(hours=1)
        whole = self.per_version(
            "trend-hours",
            key,
            level,
            code,
            lambda: self._run(kpi_queries.hour_counts, level, code, top - 23 * hour, top, False),
        )
        running = self.per_version(
            "trend-running", key, level, code, lambda: self._run(kpi_queries.hour_times, level, code, top, top + hour)
        )
        return kpi_queries.trend_frame([*whole, *kpi_queries.running_counts(running, now)], now)

    def grid_detail(self, grid_code: str):
        """(grid row with its building count, workers, open incidents)."""
        grid, workers, incidents = self._run(queries.grid_detail, grid_code, self.clock())
        return grid.assign(buildings=self.shapes.building_counts().get(grid_code, 0)), workers, incidents

    def on_duty(self, level: str, code: str | None) -> tuple[int, int]:
        """(grid workers, grids) of a unit: reference data, read once per reference version."""
        return self._reference.get(
            ("on-duty", level, code), lambda: self._run(duty_queries.workers_on_duty, level, code)
        )

    def side_panels(self, level: str, code: str | None, since: dt.datetime) -> dict:
        """Everything the command center's side panels show, queried concurrently (one cursor each); a small
        unit's (:meth:`_small_unit_panels`) also count its open incidents per affair class (``affairs``)."""
        now = self.clock()
        pool = self._db.pool
        if level in SMALL_LEVELS and since >= now - dt.timedelta(days=7):
            return self._small_unit_panels(level, code, since, now)
        jobs = {
            **{f"kpi-{part}": pool.submit(self.kpis, level, code, (part,)) for part in kpi_queries.KPI_PARTS},
            "newest": pool.submit(self.newest, level, code, now),
            "overdue": pool.submit(self.most_overdue, level, code, now),
            "names": pool.submit(self.shapes.grid_names),
            "categories": pool.submit(self._db.run_span, since, now, queries.category_counts, level, code, since, now),
            "trend": pool.submit(self.trend, level, code, now),
        }
        if level == "grid":
            jobs["grid"] = pool.submit(self.grid_detail, code)
        panels = {name: job.result() for name, job in jobs.items()}
        panels["kpis"] = {k: v for part in kpi_queries.KPI_PARTS for k, v in panels.pop(f"kpi-{part}").items()}
        panels["newest"], panels["overdue"] = self.shapes.named(panels["newest"]), self.shapes.named(panels["overdue"])
        return panels

    def _small_unit_panels(self, level, code, since, now) -> dict:
        """Side panels of a street, community or grid: its week of incidents fetched once, aggregated here.

        The fetched rows (:meth:`_unit_rows`) are shared per data version and kept while the clock stays within
        their margin, so a refresh that only the clock asks for reads nothing from the database."""
        info = None
        if level == "grid":  # its open incidents are the ones fetched below: no second look at open_incidents
            info = self._db.pool.submit(
                self._reference.get, ("grid-info", code), lambda: self._run(queries.grid_info, code)
            )
        # shared until the next write: a report of a new category adds it (with the default class) without moving
        # the reference counter, so the classes are not kept per reference version
        classes = self._db.shared.get(
            "affair-classes", (), lambda: self._run(duty_queries.affair_classes), None, KEPT_S
        )
        reported, resolved, unit_open = self.unit_rows(level, code, now).within(now - WEEK, now)
        is_late = unit_open["due_at"].to_numpy() < np.datetime64(now)  # NaT: never late
        late = first_rows(unit_open[is_late], "due_at", TICKER_SIZE)
        newest = first_rows(reported, "reported_at", TICKER_SIZE, latest=True)
        counts = reported.loc[reported["reported_at"].to_numpy() >= np.datetime64(since), "category"].value_counts()
        panels = {
            "affairs": duty_queries.affair_counts(unit_open["category"], classes),
            "kpis": unit_kpis(reported, resolved, int(is_late.sum()), now),
            "newest": self.shapes.named(newest),
            "categories": pd.DataFrame({"category": counts.index.to_numpy(), "n": counts.to_numpy()}),
            "trend": hourly(reported["reported_at"], resolved["resolved_at"], now),
            "overdue": self.shapes.named(late),
        }
        if info is not None:
            grid, workers = info.result()
            listed = first_rows(unit_open, "due_at", GRID_OPEN_LISTED)
            listed = listed[["incident_id", "category", "status", "reported_at", "due_at"]]
            panels["grid"] = (
                grid.assign(buildings=self.shapes.building_counts().get(code, 0)),
                workers,
                listed.assign(overdue=listed["due_at"].to_numpy() < np.datetime64(now)),
            )
        return panels

    def unit_rows(self, level: str, code: str, now: dt.datetime) -> UnitRows:
        """A street's, community's or grid's rows covering the week before ``now``: shared per data version while
        the clock stays within their margin (the side panels and the map's child counts read the same); a write
        in the unit is applied to them (its incidents' rows read again), not fetched whole."""
        unit = (level, code)
        rows = self._db.shared.get(
            "unit-rows",
            unit,
            lambda: self._unit_rows(level, code),
            unit,
            KEPT_S,
            lambda kept, ids: self._patched_rows(level, code, kept, ids),
        )
        if not rows.covers(now - WEEK, now):  # a clock set back, or moved on past the margin before the entry expired
            rows = self._unit_rows(level, code, now)
        return rows

    def _unit_rows(self, level: str, code: str, now: dt.datetime | None = None) -> UnitRows:
        """The unit's week around ``now`` (default: the clock) widened by ``MARGIN``, and its open incidents."""
        now = now or self.clock()
        start, end = now - WEEK - MARGIN, now + MARGIN
        week = self._db.pool.submit(self._run, queries.unit_week, level, code, start, end)
        open_rows = self._run(queries.unit_open, level, code)
        return UnitRows(start, end, *week.result(), open_rows)

    def _patched_rows(self, level: str, code: str, rows: UnitRows, ids: list[str]) -> UnitRows:
        """``rows`` with the incidents ``ids`` read again: equal to a fetch of the same span now."""
        week = self._db.pool.submit(self._run, queries.unit_week, level, code, rows.start, rows.end, ids)
        open_rows = self._run(queries.unit_open, level, code, ids)
        reported, resolved = week.result()
        return UnitRows(
            rows.start,
            rows.end,
            replace_incidents(rows.reported, reported, ids),
            replace_incidents(rows.resolved, resolved, ids),
            replace_incidents(rows.open, open_rows, ids),
        )

    # --- leader view and playback ---------------------------------------------
    def ranking_unit(self, level: str, code: str | None, child: str) -> tuple[str, str | None]:
        """The unit whose ``child`` units are ranked: a ranking of streets needs a unit above streets (the
        unit itself, or its parent's parent ...); of communities, a unit above communities."""
        order = queries.LEVELS
        while order.index(level) >= order.index(child):
            level, code = self.shapes.parent(level, code)
        return level, code

    def ranking(self, level: str, code: str | None, child: str, since: dt.datetime) -> pd.DataFrame:
        level, code = self.ranking_unit(level, code, child)
        now = self.clock()
        rollup = not self._db.reaches_archive(since)  # the roll-up holds the file's days only
        return self._db.run_span(since, now, queries.ranking, level, code, child, since, now, rollup=rollup)

    def playback(self, level, code, res, start, end) -> pd.DataFrame:
        return self._db.run_span(start, end, queries.playback_counts, level, code, res, start, end)
