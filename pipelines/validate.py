"""Turn a raw table into canonical rows (WGS84, our column names) and per-row problems.

File-level problems raise one :class:`LoadError` listing all of them; row-level
problems become a reason string per row, and those rows are quarantined.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.crs import CHINA_LAT, CHINA_LNG, in_china, parse_crs, to_wgs84
from pipelines import identity
from pipelines.dates import parse_times
from pipelines.errors import LoadError
from pipelines.kinds import ALIASES, Kind, expected_columns, missing_columns
from pipelines.options import DEFAULT_TZ, LoadOptions
from pipelines.osm import fill_osm_class
from pipelines.readers import RawTable
from pipelines.values import apply_values
from pipelines.vocabulary import MAX_DESCRIPTION, MAX_SHORT

WGS84 = CRS.from_epsg(4326)


@dataclass
class Prepared:
    frame: pd.DataFrame
    """Canonical columns, plus ``geometry`` (WGS84 shapely) and ``lon``/``lat`` for point kinds."""
    problems: pd.Series
    """Reason per row; empty string for a good row."""
    raw: pd.DataFrame
    repaired: int = 0
    notes: list[str] = field(default_factory=list)
    merged: np.ndarray | None = None
    """Rows folded into an earlier row with the same id (not loaded, not rejected)."""


class Problems:
    """Collects row-level reasons as vectorised masks."""

    def __init__(self, n: int) -> None:
        self.reasons = pd.Series([""] * n, dtype=object)

    def add(self, mask: np.ndarray | pd.Series, reason: str | np.ndarray) -> None:
        """Add ``reason`` (one text, or one per row) to the rows in ``mask``."""
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            if not isinstance(reason, str):
                reason = np.asarray(reason, dtype=object)[mask]
            current = self.reasons[mask].to_numpy(dtype=object)
            self.reasons[mask] = np.where(current == "", reason, current + "; " + reason)


def apply_mapping(frame: pd.DataFrame, kind: Kind, mapping: dict[str, str]) -> pd.DataFrame:
    """Rename the file's columns onto ours: explicit --map first, then known aliases."""
    known = set(kind.columns) | {"lon", "lat", "geometry"}
    errors = []
    for target, source in mapping.items():
        if target not in known:
            errors.append(
                f"--map {target}={source}: {target!r} is not a {kind.name} column (ours: {', '.join(sorted(known))})"
            )
        if source not in frame.columns:
            errors.append(f"--map {target}={source}: the file has no column {source!r}")
    if errors:
        raise LoadError(" | ".join(errors) + f". Columns in the file: {', '.join(map(str, frame.columns))}")
    sources = set(mapping.values())
    frame = frame.assign(**{target: frame[source] for target, source in mapping.items()})
    frame = frame.drop(columns=[s for s in sources if s not in mapping and s not in known])
    lower = {str(c).lower(): c for c in frame.columns}
    renames = {}
    for target, aliases in ALIASES.items():
        if target not in known or target in frame.columns:
            continue
        for alias in aliases:
            if alias.lower() in lower and lower[alias.lower()] not in renames:
                renames[lower[alias.lower()]] = target
                break
    return frame.rename(columns=renames)


def _geometry_series(frame: pd.DataFrame) -> np.ndarray | None:
    if "geometry" not in frame.columns:
        return None
    values = frame["geometry"].to_numpy(dtype=object)
    if len(values) and all(v is None or isinstance(v, shapely.Geometry) for v in values[:100]):
        return values
    text = pd.Series(values).astype("string").fillna("").to_numpy(dtype=object)
    return shapely.from_wkt(np.where(text == "", None, text), on_invalid="ignore")


def _check_columns(frame: pd.DataFrame, kind: Kind, source_name: str, file_columns: list) -> None:
    missing = missing_columns(kind, frame)
    if missing:
        found = ", ".join(str(c) for c in file_columns if c != "geometry") or "(none)"
        targets = [t for name in missing for t in (("lon", "lat") if name.startswith("lon/lat") else (name,))]
        fixes = " ".join(f"--map {t}=YOUR_COLUMN" for t in targets if t != "geometry")
        raise LoadError(
            f"{source_name}: missing required column(s) {', '.join(missing)} for {kind.name}. "
            f"Found: {found}. Expected {expected_columns(kind)}."
            + (f" Map your own names with: {fixes}" if fixes else "")
        )


def _resolve_crs(crs_text: str | None, file_crs: CRS | None) -> str | CRS:
    if crs_text:
        try:
            return parse_crs(crs_text)
        except ValueError as exc:
            raise LoadError(str(exc)) from exc
    return file_crs or WGS84


def _crs_label(crs: str | CRS) -> str:
    if isinstance(crs, str):
        return crs
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.name


def _looks_projected(x: np.ndarray, y: np.ndarray) -> bool:
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return False
    return bool(np.mean((np.abs(x[ok]) > 180) | (np.abs(y[ok]) > 90)) > 0.5)


def _convert_geometries(geoms: np.ndarray, crs: str | CRS) -> np.ndarray:
    def convert(coords: np.ndarray) -> np.ndarray:
        lng, lat = to_wgs84(coords[:, 0], coords[:, 1], crs)
        return np.column_stack([lng, lat])

    return shapely.transform(geoms, convert)


def _to_number(series: pd.Series, integer: bool) -> tuple[pd.Series, np.ndarray]:
    text = series.astype("string").str.strip()
    present = text.notna() & (text != "")
    numbers = pd.to_numeric(text.where(present), errors="coerce")
    bad = (present & numbers.isna()).to_numpy(bool)
    if integer:
        bad |= (numbers.notna() & (numbers != numbers.round())).to_numpy(bool)
        numbers = numbers.where(~bad).round().astype("Int64")
    return numbers, bad


def _typed_columns(
    frame: pd.DataFrame, kind: Kind, problems: Problems, options: LoadOptions, db_tz: str
) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    unreadable = {}
    for column, kind_type in kind.columns.items():
        if column not in frame.columns:
            out[column] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
            continue
        series = frame[column]
        if kind_type == "str":
            text = series.astype("string").str.strip()
            limit = MAX_DESCRIPTION if column == "description" else MAX_SHORT
            too_long = (text.str.len() > limit).fillna(False).to_numpy(bool)
            problems.add(too_long, f"{column} is longer than {limit:,} characters (the API's limit)")
            out[column] = text.where((text != "") & ~too_long)
        elif kind_type in ("int", "float"):
            if column.endswith("_m") and not pd.api.types.is_numeric_dtype(series):
                series = series.astype("string").str.replace(r"\s*(m|米|metres|meters)\s*$", "", regex=True)
            out[column], bad = _to_number(series, kind_type == "int")
            unreadable[column] = bad
            problems.add(bad, f"{column} is not {'a whole number' if kind_type == 'int' else 'a number'}")
        else:
            out[column], bad = parse_times(series, column, options.date_order, options.tz or db_tz, db_tz)
            unreadable[column] = bad
            problems.add(bad, f"{column} is not a date/time (use e.g. 2026-11-22 08:30:00)")
    for column in kind.required:
        problems.add(out[column].isna().to_numpy(bool) & ~unreadable.get(column, False), f"missing {column}")
    return out


def _point_geometry(frame: pd.DataFrame, geoms: np.ndarray | None, problems: Problems):
    if geoms is not None:
        is_point = shapely.get_type_id(geoms) == 0
        x = np.where(is_point, shapely.get_x(geoms), np.nan)
        y = np.where(is_point, shapely.get_y(geoms), np.nan)
        problems.add(~is_point & ~shapely.is_missing(geoms), "expected a point geometry")
    else:
        x, bad_x = _to_number(frame["lon"], integer=False)
        y, bad_y = _to_number(frame["lat"], integer=False)
        problems.add(bad_x | bad_y, "lon/lat is not a number")
        x, y = x.to_numpy(float, na_value=np.nan), y.to_numpy(float, na_value=np.nan)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def _repair_polygons(geoms: np.ndarray, problems: Problems, allow_points: bool) -> tuple[np.ndarray, int]:
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    problems.add(missing, "no geometry")
    type_id = shapely.get_type_id(geoms)
    polygonal = np.isin(type_id, (3, 6))
    point = (type_id == 0) if allow_points else np.zeros(len(geoms), dtype=bool)
    problems.add(
        ~missing & ~polygonal & ~point,
        "expected a polygon or point geometry" if allow_points else "expected a polygon geometry",
    )
    candidates = ~missing & polygonal
    invalid = candidates & ~shapely.is_valid(geoms)
    repaired = geoms.copy()
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid])
        # make_valid may return a collection with stray lines: keep the polygonal part.
        fixed = np.array([_polygonal_part(g) for g in fixed], dtype=object)
        repaired[invalid] = fixed
    unrepairable = candidates & (
        shapely.is_missing(repaired) | shapely.is_empty(repaired) | (shapely.area(repaired) <= 0)
    )
    problems.add(unrepairable, "invalid polygon that cannot be repaired")
    return repaired, int((invalid & ~unrepairable).sum())


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry | None:
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else None


def swapped_mask(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Points whose longitude sits in the latitude column (and vice versa) for a Chinese city."""
    looks_swapped = (y > CHINA_LNG[0]) & (y < CHINA_LNG[1]) & (x > CHINA_LAT[0]) & (x < CHINA_LAT[1])
    return looks_swapped & ~in_china(x, y)


def _check_projection(crs: str | CRS, probe_x: np.ndarray, probe_y: np.ndarray, source_name: str) -> None:
    is_geographic = isinstance(crs, str) or crs.is_geographic
    ok = np.isfinite(probe_x) & np.isfinite(probe_y)
    if is_geographic and ok.any() and np.mean(swapped_mask(probe_x[ok], probe_y[ok])) > 0.5:
        raise LoadError(
            f"{source_name}: latitude and longitude look swapped (longitude column x={probe_x[ok][0]:.4f}, latitude "
            f"column y={probe_y[ok][0]:.4f}): map each column to the other, e.g. --map lon=lat,lat=lon "
            "(--map lon=<column of longitudes>,lat=<column of latitudes>)"
        )
    if is_geographic and _looks_projected(probe_x, probe_y):
        ok = np.isfinite(probe_x)
        sample = f"x={probe_x[ok][0]:.0f}, y={probe_y[ok][0]:.0f}" if ok.any() else ""
        raise LoadError(
            f"{source_name}: coordinates look projected in metres ({sample}) but are read as "
            f"{_crs_label(crs)} degrees: pass --crs with the file's projected system, e.g. "
            "--crs EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E) or --crs EPSG:32650 (UTM 50N)"
        )
    if not is_geographic and not _looks_projected(probe_x, probe_y) and len(probe_x):
        raise LoadError(
            f"{source_name}: coordinates look like degrees but {_crs_label(crs)} is a projected system: "
            "drop --crs, or pass --crs EPSG:4326 / EPSG:4490 / gcj02 / bd09"
        )


def _place_points(out: pd.DataFrame, x, y, crs, converted: bool, problems: Problems) -> None:
    missing = ~(np.isfinite(x) & np.isfinite(y))
    problems.add(missing, "no coordinates")
    lng, lat = to_wgs84(x, y, crs) if converted else (x, y)
    lng, lat = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
    problems.add(
        ~missing & swapped_mask(lng, lat), "latitude and longitude look swapped (map them with --map lon=…,lat=…)"
    )
    out_of_range = ~missing & ((np.abs(lat) > 90) | (np.abs(lng) > 180))
    problems.add(out_of_range & ~swapped_mask(lng, lat), "coordinates out of range")
    out["lon"], out["lat"] = lng, lat
    out["geometry"] = shapely.points(lng, lat)


def _place_shapes(out: pd.DataFrame, kind: Kind, geoms, crs, converted: bool, problems: Problems) -> int:
    if converted:
        geoms = _convert_geometries(geoms, crs)
    repaired = 0
    if kind.geometry in ("polygon", "footprint"):
        geoms, repaired = _repair_polygons(geoms, problems, allow_points=kind.geometry == "footprint")
    else:
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        problems.add(missing, "no geometry")
        problems.add(~missing & ~np.isin(shapely.get_type_id(geoms), (1, 5)), "expected a line geometry")
    centroid = shapely.centroid(geoms)
    out["lon"], out["lat"] = shapely.get_x(centroid), shapely.get_y(centroid)
    lon, lat = out["lon"].to_numpy(float), out["lat"].to_numpy(float)
    problems.add(np.isfinite(lon) & swapped_mask(lon, lat), "latitude and longitude look swapped")
    out["geometry"] = geoms
    return repaired


def _identify(out: pd.DataFrame, frame: pd.DataFrame, kind: Kind, problems: Problems, merge: bool) -> np.ndarray:
    """Ids (hashed from geometry and attributes where missing); merges parts; flags duplicates."""
    attributes = frame.drop(columns=["geometry"], errors="ignore")
    geoms = out["geometry"].to_numpy(dtype=object)
    out[kind.id_column] = identity.row_ids(out[kind.id_column], attributes, geoms, kind.name[0].upper())
    absorbed = np.zeros(len(out), dtype=bool)
    if merge and kind.name in identity.MERGEABLE:
        good = (problems.reasons == "").to_numpy(bool)
        merged, absorbed = identity.merge_parts(out, good, kind.id_column, identity.MERGEABLE[kind.name])
        out[["geometry", "lon", "lat"]] = merged[["geometry", "lon", "lat"]]
    ids = out[kind.id_column].where(~absorbed)
    duplicated, reason = identity.duplicate_reasons(ids[~absorbed])
    if duplicated.any():
        mask = np.zeros(len(out), dtype=bool)
        mask[np.flatnonzero(~absorbed)[duplicated]] = True
        problems.add(mask, _spread(reason, ~absorbed))
    return absorbed


def _spread(values: np.ndarray, where: np.ndarray) -> np.ndarray:
    full = np.full(len(where), "", dtype=object)
    full[where] = values
    return full


def prepare(
    kind: Kind,
    raw: RawTable,
    source_name: str,
    crs_text: str | None = None,
    mapping: dict[str, str] | None = None,
    options: LoadOptions | None = None,
    db_tz: str = DEFAULT_TZ,
) -> Prepared:
    options = options or LoadOptions()
    frame = apply_mapping(raw.frame.reset_index(drop=True), kind, mapping or {})
    _check_columns(frame, kind, source_name, list(raw.frame.columns))
    if kind.name == "roads":
        frame = fill_osm_class(frame)
    frame = apply_values(frame, kind.name, options.values)
    if raw.needs_crs and not crs_text:
        raise LoadError(
            f"{source_name}: the Shapefile has no .prj, so its coordinate system is unknown: pass --crs "
            "(e.g. --crs EPSG:4326 for degrees, --crs EPSG:4547 for CGCS2000 3-degree Gauss-Kruger CM 114E)"
        )
    crs = _resolve_crs(crs_text, raw.crs)
    problems = Problems(len(frame))
    out = _typed_columns(frame, kind, problems, options, db_tz)
    notes = list(raw.notes)
    if raw.encoding and raw.encoding != "utf-8":
        notes.append(f"read as {raw.encoding}")

    geoms = _geometry_series(frame)
    if geoms is not None:
        problems.add(shapely.is_missing(geoms) & frame["geometry"].notna().to_numpy(bool), "unreadable geometry (WKT)")
    use_points = kind.geometry == "point" or (kind.geometry == "footprint" and geoms is None)
    if use_points:
        x, y = _point_geometry(frame, geoms, problems)
        probe_x, probe_y = x, y
    else:
        coords = shapely.get_coordinates(geoms)
        probe_x, probe_y = coords[:, 0], coords[:, 1]
    _check_projection(crs, probe_x, probe_y, source_name)
    converted = not (isinstance(crs, CRS) and crs.equals(WGS84))
    if converted:
        notes.append(f"converted from {_crs_label(crs)} to WGS84")

    repaired = 0
    if use_points:
        _place_points(out, x, y, crs, converted, problems)
    else:
        repaired = _place_shapes(out, kind, geoms, crs, converted, problems)
        if repaired:
            notes.append(f"repaired {repaired} invalid polygon(s)")
    merge = identity.wants_merge(list(raw.frame.columns), raw.osm, options.merge_parts)
    absorbed = _identify(out, frame, kind, problems, merge)
    if absorbed.any():
        notes.append(f"merged {int(absorbed.sum()):,} feature part(s) into the earlier feature with the same id")
    return Prepared(out, problems.reasons, raw.frame.reset_index(drop=True), repaired, notes, absorbed)
