"""A unit's incidents kept in memory, and the side panels' and map's figures cut from them at each refresh.

:class:`~dashboard.models.live.LiveModel` fetches a street's, community's or grid's week once (:class:`UnitRows`),
and a unit's newest reports once (:class:`Newest`), per data version; these functions are the in-memory
equivalents of the SQL the city and a district run (``dashboard.queries``, ``dashboard.kpi_queries``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import NamedTuple

import numpy as np
import pandas as pd

from pipelines.vocabulary import DONE_STATUSES


class UnitRows:
    """A street's, community's or grid's incidents reported or resolved in [start, end], and its open ones."""

    __slots__ = ("end", "open", "reported", "resolved", "start")

    def __init__(self, start, end, reported: pd.DataFrame, resolved: pd.DataFrame, open_rows: pd.DataFrame):
        self.start, self.end = start, end
        self.reported, self.resolved, self.open = reported, resolved, open_rows

    def covers(self, since: dt.datetime, until: dt.datetime) -> bool:
        return self.start <= since and until <= self.end

    def within(self, since: dt.datetime, until: dt.datetime) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """(reported, resolved) cut to [since, until] as ``queries.unit_week`` returns them, and the open ones."""
        lo, hi = np.datetime64(since), np.datetime64(until)
        at = self.reported["reported_at"].to_numpy()
        done = self.resolved["resolved_at"].to_numpy()
        return (
            self.reported[(at >= lo) & (at <= hi)].reset_index(drop=True),
            self.resolved[(done >= lo) & (done <= hi)].reset_index(drop=True),
            self.open,
        )


class Newest(NamedTuple):
    """A unit's newest reports at ``start`` and its reports in (start, end]."""

    start: dt.datetime
    end: dt.datetime
    rows: pd.DataFrame


def replace_incidents(kept: pd.DataFrame, fresh: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    """``kept`` without the incidents ``ids``, and ``fresh`` (their rows now) after it."""
    left = kept[~kept["incident_id"].isin(ids).to_numpy()]
    if fresh.empty:
        return left.reset_index(drop=True)
    return pd.concat([left, fresh], ignore_index=True) if len(left) else fresh.reset_index(drop=True)


CHILD_COUNTS = ("window_count", "open_count", "overdue_count")


def child_counts(rows: UnitRows, column: str, since: dt.datetime, now: dt.datetime) -> dict[str, Counter]:
    """``queries.child_indicators`` from a unit's rows: per child code, reports in [since, now], open, overdue."""
    reported, _, open_rows = rows.within(since, now)
    late = (open_rows["due_at"].to_numpy() < np.datetime64(now)).tolist()
    open_codes = open_rows[column].tolist()
    return {
        "window_count": Counter(reported[column].tolist()),
        "open_count": Counter(open_codes),
        "overdue_count": Counter(c for c, is_late in zip(open_codes, late, strict=True) if is_late),
    }


def first_rows(frame: pd.DataFrame, column: str, k: int, latest: bool = False) -> pd.DataFrame:
    """The ``k`` rows earliest (``latest``: latest) in ``column``, ties by ``incident_id`` the same way, empty
    times last: ``frame.sort_values([column, "incident_id"], ascending=not latest).head(k)``, without sorting a
    frame (a few rows are picked with numpy, then those are sorted in Python)."""
    times = frame[column].to_numpy().astype("datetime64[us]").astype(np.int64)
    empty = times == np.iinfo(np.int64).min  # NaT
    keys = np.where(empty, np.iinfo(np.int64).max, -times if latest else times)  # ascending order of keys
    if len(keys) > k:
        cut = np.partition(keys, k - 1)[k - 1]
        rows = np.flatnonzero(keys <= cut)
    else:
        rows = np.arange(len(keys))
    ids = frame["incident_id"].to_numpy()
    order = sorted(rows.tolist(), key=lambda i: ids[i], reverse=latest)  # the tie-break first: sorts are stable
    order.sort(key=lambda i: keys[i])
    return frame.iloc[order[:k]].reset_index(drop=True)


def unit_kpis(reported: pd.DataFrame, resolved: pd.DataFrame, overdue: int, now: dt.datetime) -> dict:
    day_start = np.datetime64(now.replace(hour=0, minute=0, second=0, microsecond=0))
    evaluated = (resolved["status"] == "evaluated").to_numpy()
    resolved_at, reported_at = resolved["resolved_at"].to_numpy(), resolved["reported_at"].to_numpy()
    handling = (resolved_at - reported_at) / np.timedelta64(1, "h")
    handling = handling[~np.isnan(handling)]
    satisfaction = resolved["satisfaction"].to_numpy(dtype="float64", na_value=np.nan)[evaluated]
    satisfaction = satisfaction[~np.isnan(satisfaction)]
    return with_closure_rate(
        {
            "reported_today": int((reported["reported_at"].to_numpy() >= day_start).sum()),
            "reported_week": len(reported),
            "closed_week": int(reported["status"].isin(DONE_STATUSES).sum()),
            "resolved_today": int((resolved_at >= day_start).sum()),
            "handling_h": float(handling.mean()) if len(handling) else None,
            "satisfaction": float(satisfaction.mean()) if len(satisfaction) else None,
            "overdue": overdue,
        }
    )


def hourly(reported_at: pd.Series, resolved_at: pd.Series, now: dt.datetime) -> pd.DataFrame:
    """Reports and resolutions per hour over the last 24 hours (the hour ``now`` is in last)."""
    hours = pd.date_range(end=pd.Timestamp(now).floor("h"), periods=24, freq="h")
    first, day_ago, end = hours[0].to_datetime64(), np.datetime64(now - dt.timedelta(hours=24)), np.datetime64(now)

    def per_hour(times: pd.Series) -> np.ndarray:
        times = times.to_numpy()
        times = times[(times > day_ago) & (times <= end)]  # NaT: neither
        slot = (times - first) // np.timedelta64(1, "h")
        return np.bincount(slot[slot >= 0].astype(np.int64), minlength=24)

    return pd.DataFrame({"hour": hours, "reported": per_hour(reported_at), "resolved": per_hour(resolved_at)})


def with_closure_rate(values: dict) -> dict:
    reported = values["reported_week"] or 0
    values["closure_rate"] = 100.0 * (values["closed_week"] or 0) / reported if reported else None
    return values
