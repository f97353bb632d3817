"""Read any supported file into one canonical raw form: a DataFrame plus its CRS.

Supported: GeoJSON, GeoPackage, zipped Shapefile, (Geo)Parquet, CSV and XLSX.
CSV text may be UTF-8, UTF-8 with BOM, or GBK/GB18030 (detected).
"""

from __future__ import annotations

import codecs
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from pipelines.errors import LoadError

VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip")
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xls")
PARQUET_SUFFIXES = (".parquet", ".geoparquet")
OSM_SUFFIXES = (".osm", ".pbf")
SUPPORTED = (
    "GeoJSON (.geojson), GeoPackage (.gpkg), zipped Shapefile (.zip), GeoParquet (.parquet), CSV, XLSX, "
    "OpenStreetMap (.osm, .osm.pbf)"
)

ENCODINGS = ("utf-8-sig", "gb18030")
"""Tried in order; GB18030 is a superset of GBK and GB2312."""

_SNIFF_BYTES = 8 * 1024 * 1024
SHAPEFILE_SUFFIXES = (".zip", ".shp")
"""A Shapefile's coordinate system is in its ``.prj``; without one nothing says what the numbers are."""


@dataclass
class RawTable:
    frame: pd.DataFrame
    """Attribute columns as read, plus ``geometry`` (shapely objects) when the file has geometry."""
    crs: CRS | None
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    """What reading did that the user should know (e.g. OpenStreetMap features left out)."""
    osm: bool = False
    """Read from an OpenStreetMap extract: ids are OSM ids."""
    needs_crs: bool = False
    """A Shapefile without a ``.prj``: its coordinates' system is unknown, so ``--crs`` must say it."""


def detect_encoding(data: bytes) -> str:
    """Name of the first encoding in :data:`ENCODINGS` that decodes the start of ``data``."""
    sample = data[:_SNIFF_BYTES]
    for encoding in ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            decoder.decode(sample, final=len(sample) == len(data))
        except UnicodeDecodeError:
            continue
        return encoding
    raise LoadError("cannot decode the file as UTF-8 or GBK/GB18030: re-save it as UTF-8 and load it again")


def read_csv_text(data: bytes) -> tuple[pd.DataFrame, str]:
    encoding = detect_encoding(data)
    text = data.decode(encoding, errors="strict")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise LoadError(f"cannot parse the CSV: {exc}; check the delimiter is a comma and quotes are balanced") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, "gbk/gb18030" if encoding == "gb18030" else "utf-8"


def read_table(path: str | Path, kind_name: str | None = None, keep_types: frozenset[str] = frozenset()) -> RawTable:
    path = Path(path)
    if not path.exists():
        raise LoadError(f"file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in OSM_SUFFIXES:
        from pipelines.osm import read_osm

        return read_osm(path, kind_name, keep_types)
    try:
        if suffix in (".csv", ".txt"):
            frame, encoding = read_csv_text(path.read_bytes())
            return RawTable(frame, None, encoding)
        if suffix in (".xlsx", ".xls"):
            frame = pd.read_excel(path, dtype=str)
            frame.columns = [str(c).strip() for c in frame.columns]
            return RawTable(frame, None)
        if suffix in PARQUET_SUFFIXES:
            return _read_parquet(path)
        if suffix in VECTOR_SUFFIXES:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gdf = gpd.read_file(path)
            raw = _from_geodataframe(gdf)
            raw.needs_crs = raw.crs is None and suffix in SHAPEFILE_SUFFIXES
            return raw
    except LoadError:
        raise
    except Exception as exc:
        raise LoadError(f"cannot read {path.name}: {exc}. Supported formats: {SUPPORTED}") from exc
    raise LoadError(f"unsupported file type {suffix or '(none)'} for {path.name}. Supported formats: {SUPPORTED}")


def _read_parquet(path: Path) -> RawTable:
    try:
        gdf = gpd.read_parquet(path)
    except ValueError:
        return RawTable(pd.read_parquet(path), None)
    return _from_geodataframe(gdf)


def _from_geodataframe(gdf: gpd.GeoDataFrame) -> RawTable:
    crs = gdf.crs
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    frame["geometry"] = gdf.geometry.to_numpy()
    frame.columns = [str(c).strip() for c in frame.columns]
    return RawTable(frame, crs)
