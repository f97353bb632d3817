"""`gridtwin export`: a database's incidents, their history and its layers as a partitioned GeoParquet archive.

Re-export is incremental.  Each partition's content has a fingerprint computed in one grouped scan
(row count and the XOR of every row's hash, for the incidents and, separately, for their events); the
manifest keeps the fingerprints of what was written, and only partitions whose fingerprint changed are
rewritten (a partition that no longer exists is removed).  A status change appends an event and
updates its incident, so it rewrites just the partition of that incident's district and report month.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from pipelines import store
from pipelines.archive import layout
from pipelines.errors import GridtwinError
from pipelines.store import archive as rows_of

_LAYER_KINDS = {"grids": "shape", "buildings": "shape", "facilities": "point"}


@dataclass
class ExportSummary:
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    rows: int = 0

    def lines(self) -> list[str]:
        return [
            f"{len(self.written):,} file(s) written ({self.rows:,} rows), {self.unchanged:,} unchanged,"
            f" {len(self.removed):,} removed"
        ]


def export_archive(db_path: str | Path, to: str, row_group_rows: int = layout.ROW_GROUP_ROWS) -> ExportSummary:
    """Write (or bring up to date) the archive at ``to`` from the database at ``db_path`` (read only)."""
    if not Path(db_path).exists():
        raise GridtwinError(f"database {db_path} does not exist: build one with `gridtwin generate --db {db_path}`")
    fs, root = layout.filesystem(to)
    if fs.exists(root) and not fs.isdir(root):
        raise GridtwinError(f"--to {to} is a file: give a folder for the archive")
    old = layout.read_manifest(fs, root)
    new: dict[str, dict] = {}
    summary = ExportSummary()
    con = store.connect(db_path, read_only=True)
    try:
        for table in layout.PARTITIONED:
            _export_partitions(con, fs, root, table, old, new, summary, row_group_rows)
        for table, kind in _LAYER_KINDS.items():
            _export_layer(con, fs, root, table, kind, old, new, summary, row_group_rows)
    finally:
        con.close()
    for relative in sorted(set(old) - set(new)):
        path = f"{root}/{relative}"
        if fs.exists(path):
            fs.rm(path)
        summary.removed.append(relative)
    layout.write_manifest(fs, root, new)
    return summary


def _export_partitions(con, fs, root, table, old, new, summary, row_group_rows) -> None:
    for found in rows_of.partition_fingerprints(con, table):
        district, month = found.pop("district"), found.pop("month")
        relative = f"{layout.partition_dir(table, district, month)}/part-0.parquet"
        entry = {"rows": int(found.pop("n")), "fingerprint": str(found.pop("h"))} | found
        new[relative] = entry
        if old.get(relative) == entry and fs.exists(f"{root}/{relative}"):
            summary.unchanged += 1
            continue
        rows = rows_of.partition_rows(con, table, district, month)
        if table == "incidents":
            rows = layout.with_geometry(
                rows, *layout.point_geometry(_floats(rows, "lon"), _floats(rows, "lat")), ["Point"]
            )
        layout.write_file(fs, f"{root}/{relative}", rows, row_group_rows)
        summary.written.append(relative)
        summary.rows += rows.num_rows


def _export_layer(con, fs, root, table, kind, old, new, summary, row_group_rows) -> None:
    relative = f"{table}.parquet"
    n, h = rows_of.layer_fingerprint(con, table)
    entry = {"rows": int(n), "fingerprint": str(h)}
    new[relative] = entry
    if old.get(relative) == entry and fs.exists(f"{root}/{relative}"):
        summary.unchanged += 1
        return
    rows = rows_of.layer_rows(con, table)
    if kind == "point":
        rows = layout.with_geometry(rows, *layout.point_geometry(_floats(rows, "lon"), _floats(rows, "lat")), ["Point"])
    else:
        rows = layout.with_geometry(rows, *layout.shape_geometry(rows.column("geometry").combine_chunks()))
    layout.write_file(fs, f"{root}/{relative}", rows, row_group_rows)
    summary.written.append(relative)
    summary.rows += rows.num_rows


def _floats(rows: pa.Table, column: str):
    return rows.column(column).to_numpy(zero_copy_only=False).astype("float64")
