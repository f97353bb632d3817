"""The work done on one archive file: re-assign its points to new grids, or count it per grid.

These functions run on Dask workers, one incidents file per task (see :mod:`.batch`), but take and return
plain values, so they also run in-process.  Assignment is the pipelines' own: :class:`geo.assign.Locator`
(H3 cover lookup with an exact point-in-polygon check for boundary cells) over an :class:`~pipelines.area.Area`,
built once per worker process.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo.assign import GridCover, Locator
from pipelines.archive import layout

CODE_COLUMNS = ("grid_code", "community_code", "street_code", "district_code")


@dataclass(frozen=True)
class AreaPayload:
    """What a worker needs to assign points: the cover, the grid shapes (WKB) and the codes per grid."""

    token: str
    cover: GridCover
    wkb: np.ndarray
    codes: pd.DataFrame

    def prepared(self) -> tuple[Locator, dict[str, pa.Array]]:
        """The compiled locator and each code column as an Arrow string array by grid position.

        Built once per worker process and area (keyed by ``token``), not once per task.
        """
        cached = _PREPARED.get(self.token)
        if cached is None:
            import shapely

            locator = Locator(self.cover, shapely.from_wkb(self.wkb))
            codes = {c: pa.array(self.codes[c].to_numpy(dtype=object), type=pa.string()) for c in CODE_COLUMNS}
            cached = (locator, codes)
            _PREPARED.clear()  # one area at a time per worker process
            _PREPARED[self.token] = cached
        return cached


_PREPARED: dict[str, tuple[Locator, dict[str, pa.Array]]] = {}


def assign_table(table: pa.Table, area: AreaPayload) -> pa.Table:
    """``table`` (with lon, lat, h3_cell) with its grid and upper codes recomputed for ``area``."""
    lon = table.column("lon").to_numpy(zero_copy_only=False).astype(np.float64)
    lat = table.column("lat").to_numpy(zero_copy_only=False).astype(np.float64)
    cells = table.column("h3_cell").fill_null(0).to_numpy(zero_copy_only=False).astype(np.uint64)
    locator, arrays = area.prepared()
    index = locator.assign(lon, lat, cells)
    positions = pa.array(index, mask=index < 0)
    for column in CODE_COLUMNS:
        codes = arrays[column].take(positions)
        table = table.set_column(table.column_names.index(column), column, codes)
    return table


def reassign_file(archive: str, out: str, district: str, month: str, name: str, area: AreaPayload) -> dict:
    """Re-assign one incidents file and move its rows (with the events file of the same name) to their new
    district's partition.

    A task holds one file (not the whole partition), so a worker's memory is bounded by the largest file,
    whatever the archive's size.  Rows stay in the file's H3 order (a filter keeps it); output files are named
    ``<name>-<source district>``, so two tasks never write the same file.
    """
    fs, root = layout.filesystem(archive)
    ofs, oroot = layout.filesystem(out)
    source = layout.partition_dir("incidents", district, month)
    incidents = layout.read_file(fs, f"{root}/{source}/{name}.parquet")
    if incidents.num_rows == 0:
        return {"rows": 0, "outside": 0, "moved": 0}
    incidents = assign_table(incidents, area)
    new_district = incidents.column("district_code").fill_null(layout.NO_DISTRICT).combine_chunks()
    events_path = f"{root}/{layout.partition_dir('incident_events', district, month)}/{name}.parquet"
    events = layout.read_file(fs, events_path) if fs.exists(events_path) else None
    event_district = None if events is None else _event_districts(events, incidents, new_district, district)
    written = f"{name}-{district}.parquet"
    targets = pc.unique(new_district).to_pylist()
    for target in targets:
        rows = incidents if len(targets) == 1 else incidents.filter(pc.equal(new_district, target))
        metadata = dict(rows.schema.metadata or {})
        metadata[b"geo"] = layout.geo_metadata(rows.column("bbox"), ["Point"])
        rows = rows.replace_schema_metadata(metadata)
        layout.write_file(ofs, f"{oroot}/{layout.partition_dir('incidents', target, month)}/{written}", rows)
        if events is not None:
            moved = events if len(targets) == 1 else events.filter(pc.equal(event_district, target))
            if moved.num_rows:
                layout.write_file(
                    ofs, f"{oroot}/{layout.partition_dir('incident_events', target, month)}/{written}", moved
                )
    return {
        "rows": incidents.num_rows,
        "outside": incidents.column("grid_code").null_count,
        "moved": int(pc.sum(pc.not_equal(new_district, district)).as_py() or 0),
    }


def _event_districts(events: pa.Table, incidents: pa.Table, new_district: pa.Array, district: str) -> pa.Array:
    """Each event's new district: its incident's (only the incidents that moved are looked up)."""
    moved = pc.not_equal(new_district, district)
    if not pc.any(moved).as_py():
        return pa.nulls(events.num_rows, pa.string()).fill_null(district)
    moved_ids = incidents.column("incident_id").filter(moved)
    lookup = pc.index_in(events.column("incident_id"), moved_ids)
    return pc.coalesce(pc.take(new_district.filter(moved), lookup), pa.scalar(district)).combine_chunks()


def reassign_layer(archive: str, out: str, table: str, area: AreaPayload) -> dict:
    """Re-assign a point layer (buildings, facilities) kept as one file."""
    fs, root = layout.filesystem(archive)
    ofs, oroot = layout.filesystem(out)
    path = f"{root}/{table}.parquet"
    if not fs.exists(path):
        return {"rows": 0, "outside": 0}
    rows = assign_table(layout.read_file(fs, path), area)
    layout.write_file(ofs, f"{oroot}/{table}.parquet", rows)
    return {"rows": rows.num_rows, "outside": int(pc.sum(pc.is_null(rows.column("grid_code"))).as_py() or 0)}


AGGREGATE_COLUMNS = ["grid_code", "due_at", "resolved_at"]
"""The month is the partition's: a file holds the incidents reported in it."""


def aggregate_partition(archive: str, district: str, month: str, names: list[str]) -> pd.DataFrame:
    """Per grid of one partition (one task): incidents reported in its month, closed, closed by the deadline.

    The files are read one at a time (three columns each) and their counts summed, so a worker holds one
    file and returns one row per grid of the partition however many files the partition has."""
    fs, root = layout.filesystem(archive)
    folder = f"{root}/{layout.partition_dir('incidents', district, month)}"
    parts = [_file_counts(layout.read_file(fs, f"{folder}/{name}.parquet", AGGREGATE_COLUMNS)) for name in names]
    parts = [p for p in parts if p.num_rows]
    if not parts:
        return pd.DataFrame({"grid_code": [], "month": [], "incidents": [], "closed": [], "closed_on_time": []})
    total = (
        pa.concat_tables(parts)
        .group_by("grid_code")
        .aggregate([("incidents", "sum"), ("closed", "sum"), ("closed_on_time", "sum")])
    )
    counts = total.to_pandas().rename(columns=lambda c: c.removesuffix("_sum"))
    counts.insert(0, "month", month)
    return counts[["grid_code", "month", "incidents", "closed", "closed_on_time"]]


def _file_counts(rows: pa.Table) -> pa.Table:
    resolved = pc.is_valid(rows.column("resolved_at"))
    on_time = pc.fill_null(pc.less_equal(rows.column("resolved_at"), rows.column("due_at")), False)
    return (
        pa.table(
            {
                "grid_code": rows.column("grid_code"),
                "closed": pc.cast(resolved, pa.int64()),
                "closed_on_time": pc.cast(on_time, pa.int64()),
            }
        )
        .group_by("grid_code")  # a null grid (outside every grid) is a group of its own
        .aggregate([([], "count_all"), ("closed", "sum"), ("closed_on_time", "sum")])
        .rename_columns({"count_all": "incidents", "closed_sum": "closed", "closed_on_time_sum": "closed_on_time"})
    )


def combine_counts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Sum partial counts per grid × month and derive 结案率 and 按期结案率 (of the incidents reported)."""
    frame = pd.concat([p for p in parts if len(p)], ignore_index=True) if parts else pd.DataFrame()
    if frame.empty:
        return pd.DataFrame(
            columns=["grid_code", "month", "incidents", "closed", "closed_on_time", "closure_rate", "on_time_rate"]
        )
    total = frame.groupby(["grid_code", "month"], dropna=False, as_index=False)[
        ["incidents", "closed", "closed_on_time"]
    ].sum()
    total = total.astype({"incidents": "int64", "closed": "int64", "closed_on_time": "int64"})
    total["closure_rate"] = total["closed"] / total["incidents"]
    total["on_time_rate"] = total["closed_on_time"] / total["incidents"]
    return total.sort_values(["grid_code", "month"], na_position="last").reset_index(drop=True)
