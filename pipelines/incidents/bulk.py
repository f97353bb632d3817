"""Bulk insert of new incidents: the rows, their open state, resolutions and imported history, built in Arrow.

The batch is converted to Arrow once, sorted by ``reported_at`` in numpy and given its grid codes by
position, so each of the four tables receives one plain append of an Arrow table: no join, sort or
second scan inside DuckDB.  ``timings`` (a dict, optional) receives the wall-clock and CPU seconds of each stage, which
``bench/ingest.py`` prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.store.rows import as_arrow
from pipelines.store.schema import OPEN_COLUMNS, RESOLVED_COLUMNS
from pipelines.vocabulary import GRID_CODE_COLUMNS, OPEN_STATUSES

OPEN_NAMES = [c.strip() for c in OPEN_COLUMNS.split(",")]
VOCABULARY_COLUMNS = ("category", "affair_class", "source", "priority", "status")
"""Text columns drawn from short vocabularies: reordered and stored as dictionaries (a sort moves 4-byte
indexes rather than strings: the time sort of 1M rows 0.53 -> ~0.15 s)."""
RESOLVED_NAMES = [c.strip() for c in RESOLVED_COLUMNS.split(",")]


@contextmanager
def stage(timings: dict | None, name: str):
    """Add the wall-clock and CPU seconds (of every thread of the process, DuckDB's included) spent in the block
    to ``timings[name]``, a pair (nothing if ``timings`` is None)."""
    start, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        if timings is not None:
            wall_s, cpu_s = timings.get(name, (0.0, 0.0))
            timings[name] = (wall_s + time.perf_counter() - start, cpu_s + time.process_time() - cpu)


def batch_table(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """The batch as one Arrow table (pandas columns converted once, on every core)."""
    if isinstance(frame, pa.Table):
        return frame
    return pa.Table.from_pandas(frame, preserve_index=False)


def insert_incidents(
    append: Callable[[str, pa.Table], None], batch: pa.Table, grid_codes, actor: str, note: str, timings=None
) -> pa.Table:
    """Append new incidents (``batch`` with ``grid_index``), their open state, resolutions and imported history.

    ``append(table, rows)`` stores Arrow rows (the SQL stays in :mod:`pipelines.incidents.repository`).
    Returns the stored rows (sorted, with their grid codes) for the derived tables kept beside them."""
    with stage(timings, "sort + grid codes"):
        rows = located_rows(batch, grid_codes)
    columns = rows.column_names
    with stage(timings, "incidents"):
        append("incidents", rows)
    with stage(timings, "open_incidents"):
        live = pc.is_in(rows["status"], value_set=pa.array(OPEN_STATUSES))
        if "archived" in columns:
            live = pc.and_(live, pc.invert(pc.fill_null(rows["archived"], False)))
        append("open_incidents", rows.filter(pc.fill_null(live, False)).select(OPEN_NAMES))
    with stage(timings, "resolutions"):
        if "resolved_at" in columns:
            resolved = rows.filter(pc.is_valid(rows["resolved_at"]))
            if "satisfaction" not in columns:
                resolved = resolved.append_column("satisfaction", pa.nulls(len(resolved), pa.int8()))
            append("resolutions", resolved.select(RESOLVED_NAMES))
    with stage(timings, "incident_events"):
        append("incident_events", imported_history(rows, actor, note))
    return rows


def located_rows(batch: pa.Table, grid_codes) -> pa.Table:
    """The batch in ``reported_at`` order with ``grid_index`` replaced by the grid and upper codes (NULL if none)."""
    times = batch["reported_at"].to_numpy()
    if len(times) > 1 and not (times[1:] >= times[:-1]).all():
        for name in VOCABULARY_COLUMNS:
            column = batch[name] if name in batch.column_names else None
            if column is not None and (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
                batch = batch.set_column(batch.column_names.index(name), name, pc.dictionary_encode(column))
        batch = batch.take(pa.array(np.argsort(times, kind="stable")))
    codes = as_arrow(grid_codes)
    index = batch["grid_index"].cast(pa.int64())
    position = pc.index_in(index, value_set=codes["grid_index"].cast(pa.int64()))  # null: outside every grid
    position = position.cast(pa.int32()).combine_chunks()
    rows = batch.drop_columns(["grid_index"])
    for column in GRID_CODE_COLUMNS:  # each code once, every row pointing at it (no copy of the strings per row)
        dictionary = codes[column].cast(pa.string()).combine_chunks()
        rows = rows.append_column(column, pa.DictionaryArray.from_arrays(position, dictionary))
    return rows


def imported_history(rows: pa.Table, actor: str, note: str) -> pa.Table:
    """One 'reported' event per row, and a second event to its current status for rows past 'reported'."""
    moved = rows.filter(pc.fill_null(pc.not_equal(rows["status"].cast(pa.string()), "reported"), False))
    n, m = len(rows), len(moved)
    moved_at = moved["reported_at"].cast(pa.timestamp("us"))
    if "resolved_at" in rows.column_names:
        moved_at = pc.coalesce(moved["resolved_at"].cast(pa.timestamp("us")), moved_at)
    first = events(
        rows["incident_id"], pa.nulls(n, pa.string()), repeat("reported", n), rows["reported_at"], actor, note
    )
    second = events(moved["incident_id"], repeat("reported", m), moved["status"], moved_at, actor, note)
    return pa.concat_tables([first, second])


def events(ids, from_status, to_status, occurred_at, actor: str, note: str) -> pa.Table:
    n = len(ids)
    return pa.table(
        {
            "incident_id": ids.cast(pa.string()),
            "from_status": from_status.cast(pa.string()),
            "to_status": to_status.cast(pa.string()),
            "occurred_at": occurred_at.cast(pa.timestamp("us")),
            "actor": repeat(actor, n),
            "note": repeat(note, n),
        }
    )


def repeat(value: str | None, n: int) -> pa.Array:
    """``value`` n times as one dictionary entry (no n copies of the string in Python)."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value], pa.string()))
