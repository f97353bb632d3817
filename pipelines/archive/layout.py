"""The archive's layout on disk (or any fsspec file system) and its GeoParquet files.

An archive is a folder::

    incidents/district=<district_code>/month=<YYYY-MM>/part-<name>.parquet        GeoParquet 1.1, points
    incident_events/district=<district_code>/month=<YYYY-MM>/part-<name>.parquet  each incident's history,
                                                                                  beside its incident
    grids.parquet, buildings.parquet, facilities.parquet                         GeoParquet 1.1
    _manifest.json                                                               per file: rows and fingerprint

Partition values are the incident's ``district_code`` (``_`` when it has none) and the month of ``reported_at``;
the files keep every column (``district_code`` included), so the partition columns ``district`` and ``month``
only serve pruning.  Rows inside each file are sorted by H3 cell, so a row group covers a compact area and its
``bbox`` statistics let a reader skip it.  Reporters' names and phones never leave the database.
"""

from __future__ import annotations

import json
import posixpath
import uuid

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import shapely
from fsspec.implementations.local import LocalFileSystem
from pyproj import CRS

GEOPARQUET_VERSION = "1.1.0"
ROW_GROUP_ROWS = 32_768
"""Rows per row group: measured by ``bench/scaleout.py --row-groups`` (see the README's archive section)."""
NO_DISTRICT = "_"
PARTITIONED = ("incidents", "incident_events")
LAYERS = ("grids", "buildings", "facilities")
MANIFEST = "_manifest.json"

_GEOMETRY_TYPES = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon"}
_WGS84 = CRS.from_epsg(4326).to_json_dict()
_POINT_WKB = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])


def filesystem(url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """The file system and root path of an archive URL (a local folder, ``file://``, ``s3://`` …)."""
    fs, root = fsspec.core.url_to_fs(str(url))
    return fs, root.rstrip("/") or "/"


def partition_dir(table: str, district: str | None, month: str) -> str:
    """The relative folder of one partition."""
    return f"{table}/district={district or NO_DISTRICT}/month={month}"


def partition_of(relative: str) -> tuple[str, str]:
    """(district, month) of a partition folder or file path."""
    parts = dict(p.split("=", 1) for p in relative.split("/") if "=" in p)
    return parts["district"], parts["month"]


def point_geometry(lon: np.ndarray, lat: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """WKB points and their bbox covering structs (both null where a coordinate is missing)."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    missing = np.isnan(lon) | np.isnan(lat)
    record = np.empty(len(lon), dtype=_POINT_WKB)  # little-endian WKB Point, 21 bytes: 6x faster than shapely
    record["order"], record["type"], record["x"], record["y"] = 1, 1, lon, lat
    validity = pa.array(~missing).buffers()[1] if missing.any() else None
    fixed = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(21), len(lon), [validity, pa.py_buffer(record.tobytes())], null_count=int(missing.sum())
    )
    return fixed.cast(pa.binary()), _bbox(lon, lat, lon, lat, missing)


def shape_geometry(wkb: pa.Array) -> tuple[pa.Array, pa.Array, list[str]]:
    """Stored WKB shapes with their bbox covering structs and geometry type names."""
    values = np.asarray(wkb.to_pylist(), dtype=object)
    missing = np.asarray(wkb.is_null().to_pylist(), dtype=bool)
    geoms = shapely.from_wkb(values)
    bounds = shapely.bounds(geoms)
    types = sorted({_GEOMETRY_TYPES.get(int(t), "Unknown") for t in np.unique(shapely.get_type_id(geoms[~missing]))})
    box = _bbox(bounds[:, 0], bounds[:, 1], bounds[:, 2], bounds[:, 3], missing)
    return pa.array(values, type=pa.binary(), mask=missing), box, types


def _bbox(xmin, ymin, xmax, ymax, missing) -> pa.Array:
    fields = [pa.array(np.asarray(v, dtype=np.float64), mask=missing) for v in (xmin, ymin, xmax, ymax)]
    return pa.StructArray.from_arrays(fields, names=["xmin", "ymin", "xmax", "ymax"], mask=pa.array(missing))


def geo_metadata(box: pa.Array, types: list[str]) -> bytes:
    """GeoParquet 1.1 file metadata: WKB ``geometry`` in WGS84 with the ``bbox`` covering column."""
    column = {
        "encoding": "WKB",
        "geometry_types": types,
        "crs": _WGS84,
        "covering": {"bbox": {k: ["bbox", k] for k in ("xmin", "ymin", "xmax", "ymax")}},
    }
    valid = box.drop_null() if len(box) else box
    if len(valid):
        flat = valid.flatten()
        column["bbox"] = [
            float(pc.min(flat[0]).as_py()),
            float(pc.min(flat[1]).as_py()),
            float(pc.max(flat[2]).as_py()),
            float(pc.max(flat[3]).as_py()),
        ]
    return json.dumps({"version": GEOPARQUET_VERSION, "primary_column": "geometry", "columns": {"geometry": column}})


def with_geometry(table: pa.Table, geometry: pa.Array, box: pa.Array, types: list[str]) -> pa.Table:
    """``table`` with ``geometry`` and ``bbox`` columns and the GeoParquet metadata."""
    for name in ("geometry", "bbox"):
        if name in table.column_names:
            table = table.drop_columns(name)
    table = table.append_column("geometry", geometry).append_column("bbox", box)
    metadata = dict(table.schema.metadata or {})
    metadata[b"geo"] = geo_metadata(box, types)
    return table.replace_schema_metadata(metadata)


def arrow_filesystem(fs) -> pafs.FileSystem:
    """Arrow's own file system for ``fs``: native (C++) I/O on a local folder, fsspec's otherwise."""
    if isinstance(fs, LocalFileSystem):
        return pafs.LocalFileSystem()
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs))


def read_file(fs, path: str, columns: list[str] | None = None) -> pa.Table:
    """One Parquet file (hive folders are not turned into columns)."""
    return pq.read_table(path, columns=columns, filesystem=arrow_filesystem(fs), partitioning=None)


def write_file(fs, path: str, table: pa.Table, row_group_rows: int = ROW_GROUP_ROWS) -> None:
    """Write one Parquet file so that a reader never sees half of it (a temporary name, then a rename)."""
    fs.makedirs(posixpath.dirname(path), exist_ok=True)
    temporary = f"{posixpath.dirname(path)}/.{uuid.uuid4().hex}.tmp"
    pq.write_table(
        table,
        temporary,
        row_group_size=max(1, row_group_rows),
        compression="zstd",
        use_dictionary=_dictionary_columns(table.schema),
        write_statistics=True,
        filesystem=arrow_filesystem(fs),
    )
    fs.mv(temporary, path)


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    """Text columns but identifiers: codes, statuses, categories repeat.  A dictionary tried on unique values
    (ids, WKB, coordinates, times) is thrown away after costing time and bytes; these went from 232 to 121 ms
    and from 9.1 to 7.1 MiB for a 97k-row incidents file."""
    return [
        f.name
        for f in schema
        if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)) and not f.name.endswith("_id")
    ]


def read_manifest(fs, root: str) -> dict:
    path = f"{root}/{MANIFEST}"
    if not fs.exists(path):
        return {}
    with fs.open(path, "rb") as f:
        return json.load(f)


def write_manifest(fs, root: str, manifest: dict) -> None:
    fs.makedirs(root, exist_ok=True)
    with fs.open(f"{root}/{MANIFEST}", "wb") as f:
        f.write(json.dumps(manifest, indent=1, sort_keys=True).encode())


def partition_files(fs, root: str, table: str) -> list[str]:
    """Every Parquet file of a partitioned table, relative to the archive root, sorted."""
    base = f"{root}/{table}"
    if not fs.exists(base):
        return []
    found = fs.glob(f"{base}/district=*/month=*/*.parquet")
    return sorted(posixpath.relpath(_strip(p), root) for p in found)


def _strip(path: str) -> str:
    return path.split("://", 1)[-1] if "://" in path else path


def require_incidents(archive: str) -> None:
    """Refuse, with the fix in the message, an archive that holds no incident partition."""
    from pipelines.errors import GridtwinError

    fs, root = filesystem(archive)
    if not partition_files(fs, root, "incidents"):
        raise GridtwinError(f"--archive {archive} holds no incidents: write one with `gridtwin export --to {archive}`")


def open_cold_history(con, archive: str):
    """The archive's cold history beside the database on ``con`` (see :class:`pipelines.store.cold.ColdHistory`)."""
    from pipelines.store.cold import ColdHistory

    require_incidents(archive)
    fs, root = filesystem(archive)
    return ColdHistory.open(con, str(archive), read_manifest(fs, root))
