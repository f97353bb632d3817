"""Synthetic incidents for archive tests and ``bench/scaleout.py``: any number, generated chunk by chunk.

:func:`synthetic_incidents` makes one chunk (incidents and their events) with the database's columns;
:func:`write_synthetic_archive` locates chunks on an :class:`~pipelines.area.Area` and appends them to an
archive partition by partition, so an archive of any size is built with one chunk in memory.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.archive import layout
from pipelines.area import Area
from pipelines.domain import CATEGORIES

_OPEN = np.array(["reported", "accepted", "dispatched", "in_progress"], dtype=object)


def synthetic_incidents(
    rng: np.random.Generator,
    n: int,
    bounds: tuple[float, float, float, float],
    start: dt.datetime,
    end: dt.datetime,
    first_id: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` incidents spread over ``bounds`` and [start, end), about 80 % resolved (some late), with events."""
    west, south, east, north = bounds
    names = np.array(list(CATEGORIES), dtype=object)
    deadline_h = np.array([CATEGORIES[c][1] for c in names], dtype=np.int64)
    pick = rng.integers(0, len(names), n)
    span_s = int((end - start).total_seconds())
    reported = np.datetime64(start, "s") + rng.integers(0, span_s, n).astype("timedelta64[s]")
    due = reported + (deadline_h[pick] * 3600).astype("timedelta64[s]")
    resolved_mask = rng.random(n) < 0.8
    took_s = (rng.exponential(0.7, n) * deadline_h[pick] * 3600).astype(np.int64)
    resolved = np.where(resolved_mask, reported + took_s.astype("timedelta64[s]"), np.datetime64("NaT"))
    status = np.where(resolved_mask, "resolved", _OPEN[rng.integers(0, len(_OPEN), n)])
    ids = pd.Series(np.arange(first_id, first_id + n)).astype(str).str.zfill(10).radd("S").to_numpy(dtype=object)
    incidents = pd.DataFrame(
        {
            "incident_id": ids,
            "category": names[pick],
            "affair_class": "公事",
            "source": "网格员巡查",
            "priority": "一般",
            "status": status,
            "reported_at": reported.astype("datetime64[us]"),
            "due_at": due.astype("datetime64[us]"),
            "resolved_at": resolved.astype("datetime64[us]"),
            "lon": rng.uniform(west, east, n),
            "lat": rng.uniform(south, north, n),
        }
    )
    done = np.flatnonzero(resolved_mask)
    events = pd.DataFrame(
        {
            "incident_id": np.concatenate([ids, ids[done]]),
            "from_status": np.concatenate([np.full(n, None, dtype=object), np.full(len(done), "in_progress")]),
            "to_status": np.concatenate([np.full(n, "reported", dtype=object), np.full(len(done), "resolved")]),
            "occurred_at": np.concatenate([reported, resolved[done]]).astype("datetime64[us]"),
            "actor": "synthetic",
            "note": None,
        }
    )
    return incidents, events


def located(area: Area, incidents: pd.DataFrame) -> pd.DataFrame:
    """Incidents with h3_cell and their grid and upper codes on ``area`` (null outside every grid)."""
    cells, index = area.locate(incidents["lon"].to_numpy(), incidents["lat"].to_numpy())
    codes = area.grids[["grid_code", "community_code", "street_code", "district_code"]].to_numpy(dtype=object)
    picked = np.where(index[:, None] >= 0, codes[np.maximum(index, 0)], None)
    frame = incidents.assign(h3_cell=cells)
    for i, column in enumerate(("grid_code", "community_code", "street_code", "district_code")):
        frame[column] = picked[:, i]
    return frame


def write_synthetic_archive(
    root: str,
    area: Area,
    total: int,
    months: list[str],
    chunk_rows: int = 1_000_000,
    seed: int = 7,
    first_chunk: int = 0,
) -> int:
    """Append ``total`` incidents (with events) to the archive at ``root``, one chunk and one month at a time.

    Chunk ``c`` holds ids from ``c * chunk_rows + 1``, falls in ``months[c % len(months)]`` and draws from its
    own seed, so an archive can be built in steps (``first_chunk``) and comes out the same.
    """
    fs, base = layout.filesystem(root)
    chunks = max(1, -(-total // chunk_rows))
    written = 0
    for chunk in range(first_chunk, first_chunk + chunks):
        n = min(chunk_rows, total - written)
        month = months[chunk % len(months)]
        start = dt.datetime.strptime(month + "-01", "%Y-%m-%d")
        end = (start + dt.timedelta(days=32)).replace(day=1)
        rng = np.random.default_rng((seed, chunk))
        incidents, events = synthetic_incidents(rng, n, area.bounds, start, end, chunk * chunk_rows + 1)
        _write_chunk(fs, base, located(area, incidents), events, month, f"part-{chunk:05d}.parquet")
        written += n
    return written


def _write_chunk(fs, base: str, frame: pd.DataFrame, events: pd.DataFrame, month: str, name: str) -> None:
    """One chunk split by district, each district's rows sorted by H3 cell (ids ascend, so ties keep id order)."""
    district = frame["district_code"].fillna(layout.NO_DISTRICT).to_numpy(dtype=object)
    names, code = np.unique(district, return_inverse=True)
    order = np.lexsort((frame["h3_cell"].to_numpy(np.uint64), code))  # by district, then cell; stable
    table = pa.Table.from_pandas(frame, preserve_index=False).take(order)
    wkb, box = layout.point_geometry(frame["lon"].to_numpy()[order], frame["lat"].to_numpy()[order])
    table = layout.with_geometry(table, wkb, box, ["Point"])
    event_code = code[_event_owner(frame, events)]
    event_order = np.argsort(event_code, kind="stable")
    event_table = pa.Table.from_pandas(events, preserve_index=False).take(event_order)
    starts = np.searchsorted(code[order], np.arange(len(names) + 1))
    event_starts = np.searchsorted(event_code[event_order], np.arange(len(names) + 1))
    for i, target in enumerate(names):
        rows = table.slice(starts[i], starts[i + 1] - starts[i])
        layout.write_file(fs, f"{base}/{layout.partition_dir('incidents', target, month)}/{name}", rows)
        mine = event_table.slice(event_starts[i], event_starts[i + 1] - event_starts[i])
        layout.write_file(fs, f"{base}/{layout.partition_dir('incident_events', target, month)}/{name}", mine)


def _event_owner(incidents: pd.DataFrame, events: pd.DataFrame) -> np.ndarray:
    """Each event's incident row: :func:`synthetic_incidents` lists every incident's report, in incident order,
    then the resolution of each resolved incident, in incident order (no string lookup on a million ids)."""
    owner = np.concatenate([np.arange(len(incidents)), np.flatnonzero(incidents["resolved_at"].notna().to_numpy())])
    if len(owner) != len(events):
        raise ValueError("events are not in synthetic_incidents' order")
    return owner
