"""The work done on one archive partition: re-assign its points to new grids, or count it per grid.

These functions run on Dask workers (see :mod:`.batch`) but take and return plain values, so they
also run in-process.  Assignment is the pipelines' own: :class:`geo.assign.Locator` (H3 cover lookup
with an exact point-in-polygon check for boundary cells) over an :class:`~pipelines.area.Area`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

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

    def code_arrays(self) -> dict[str, pa.Array]:
        """Each code column as an Arrow string array by grid position (taken by grid index)."""
        return {c: pa.array(self.codes[c].to_numpy(dtype=object), type=pa.string()) for c in CODE_COLUMNS}

    def locator(self) -> Locator:
        cached = _LOCATORS.get(self.token)
        if cached is None:
            import shapely

            cached = Locator(self.cover, shapely.from_wkb(self.wkb))
            _LOCATORS.clear()  # one area at a time per worker process
            _LOCATORS[self.token] = cached
        return cached


_LOCATORS: dict[str, Locator] = {}


def read_files(fs, paths: list[str], columns: list[str] | None = None) -> pa.Table | None:
    """The rows of several Parquet files as one table (hive folders are not turned into columns)."""
    tables = []
    for path in paths:
        with fs.open(path, "rb") as f:
            tables.append(pq.read_table(f, columns=columns))
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]


def partition_paths(fs, root: str, table: str, district: str, month: str) -> list[str]:
    return sorted(fs.glob(f"{root}/{layout.partition_dir(table, district, month)}/*.parquet"))


def assign_table(table: pa.Table, area: AreaPayload) -> pa.Table:
    """``table`` (with lon, lat, h3_cell) with its grid and upper codes recomputed for ``area``."""
    lon = table.column("lon").to_numpy(zero_copy_only=False).astype(np.float64)
    lat = table.column("lat").to_numpy(zero_copy_only=False).astype(np.float64)
    cells = table.column("h3_cell").fill_null(0).to_numpy(zero_copy_only=False).astype(np.uint64)
    index = area.locator().assign(lon, lat, cells)
    positions = pa.array(index, mask=index < 0)
    arrays = area.code_arrays()
    for column in CODE_COLUMNS:
        codes = arrays[column].take(positions)
        table = table.set_column(table.column_names.index(column), column, codes)
    return table


def reassign_partition(archive: str, out: str, district: str, month: str, area: AreaPayload) -> dict:
    """Re-assign one partition's incidents and move them (with their events) to their new district's partition.

    Output files are named after the source partition, so tasks never write the same file.
    """
    fs, root = layout.filesystem(archive)
    ofs, oroot = layout.filesystem(out)
    incidents = read_files(fs, partition_paths(fs, root, "incidents", district, month))
    if incidents is None:
        return {"rows": 0, "outside": 0, "moved": 0}
    if incidents.num_rows and len(partition_paths(fs, root, "incidents", district, month)) > 1:
        incidents = incidents.take(pc.sort_indices(incidents, [("h3_cell", "ascending"), ("incident_id", "ascending")]))
    incidents = assign_table(incidents, area)
    new_district = incidents.column("district_code").fill_null(layout.NO_DISTRICT)
    events = read_files(fs, partition_paths(fs, root, "incident_events", district, month))
    event_district = None if events is None else _event_districts(events, incidents, new_district, district)
    name = f"part-{district}-{month}.parquet"
    targets = pc.unique(new_district).to_pylist()
    for target in targets:
        rows = incidents if len(targets) == 1 else incidents.filter(pc.equal(new_district, target))
        metadata = dict(rows.schema.metadata or {})
        metadata[b"geo"] = layout.geo_metadata(rows.column("bbox").combine_chunks(), ["Point"])
        rows = rows.replace_schema_metadata(metadata)
        layout.write_file(ofs, f"{oroot}/{layout.partition_dir('incidents', target, month)}/{name}", rows)
        if events is not None:
            moved = events if len(targets) == 1 else events.filter(pc.equal(event_district, target))
            if moved.num_rows:
                layout.write_file(
                    ofs, f"{oroot}/{layout.partition_dir('incident_events', target, month)}/{name}", moved
                )
    return {
        "rows": incidents.num_rows,
        "outside": int(pc.sum(pc.is_null(incidents.column("grid_code"))).as_py() or 0),
        "moved": int(pc.sum(pc.not_equal(new_district, district)).as_py() or 0),
    }


def _event_districts(events: pa.Table, incidents: pa.Table, new_district: pa.Array, district: str) -> pa.Array:
    """Each event's new district: its incident's (only the incidents that moved are looked up)."""
    moved = pc.not_equal(new_district, district)
    result = pa.array(np.full(events.num_rows, district, dtype=object), type=pa.string())
    if not pc.any(moved).as_py():
        return result
    moved_ids = incidents.column("incident_id").filter(moved)
    lookup = pc.index_in(events.column("incident_id"), moved_ids)
    return pc.if_else(pc.is_valid(lookup), pc.take(new_district.filter(moved), lookup), result)


def reassign_layer(archive: str, out: str, table: str, area: AreaPayload) -> dict:
    """Re-assign a point layer (buildings, facilities) kept as one file."""
    fs, root = layout.filesystem(archive)
    ofs, oroot = layout.filesystem(out)
    path = f"{root}/{table}.parquet"
    if not fs.exists(path):
        return {"rows": 0, "outside": 0}
    rows = assign_table(read_files(fs, [path]), area)
    layout.write_file(ofs, f"{oroot}/{table}.parquet", rows)
    return {"rows": rows.num_rows, "outside": int(pc.sum(pc.is_null(rows.column("grid_code"))).as_py() or 0)}


AGGREGATE_COLUMNS = ["grid_code", "reported_at", "due_at", "resolved_at"]


def aggregate_partition(archive: str, district: str, month: str) -> pd.DataFrame:
    """Per grid of one partition: incidents reported in the month, closed, and closed by the deadline."""
    fs, root = layout.filesystem(archive)
    rows = read_files(fs, partition_paths(fs, root, "incidents", district, month), AGGREGATE_COLUMNS)
    if rows is None or rows.num_rows == 0:
        return pd.DataFrame({"grid_code": [], "month": [], "incidents": [], "closed": [], "closed_on_time": []})
    resolved = pc.is_valid(rows.column("resolved_at"))
    on_time = pc.fill_null(pc.less_equal(rows.column("resolved_at"), rows.column("due_at")), False)
    frame = pa.table(
        {
            "grid_code": rows.column("grid_code"),
            "closed": pc.cast(resolved, pa.int64()),
            "closed_on_time": pc.cast(on_time, pa.int64()),
        }
    ).to_pandas()
    counts = frame.groupby("grid_code", dropna=False).agg(
        incidents=("closed", "size"), closed=("closed", "sum"), closed_on_time=("closed_on_time", "sum")
    )
    counts.insert(0, "month", month)
    return counts.reset_index()


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
