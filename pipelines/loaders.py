"""Load a file of one kind into the database in one transaction.

File-level problems raise :class:`LoadError` before anything is written.
Row-level problems are quarantined in ``rejects`` with their reason.
Reloading the same file replaces the same rows (ids, or a hash of the row).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import shapely
from tqdm import tqdm

from geo.measure import area_m2, length_m
from pipelines import residents, store
from pipelines.area import UPPER_CODES, Area, cover_frame, dissolve_levels, read_area
from pipelines.dates import check_tz, database_tz
from pipelines.errors import LoadError
from pipelines.facility_names import fill_names
from pipelines.grid_overlaps import reject_overlaps
from pipelines.incident_rules import incident_defaults
from pipelines.incidents.repository import sync_derived_tables, upsert_incidents
from pipelines.kinds import KINDS
from pipelines.load_records import file_sha256, quarantine, record_summary
from pipelines.options import LoadOptions
from pipelines.readers import read_table
from pipelines.residents import PERSONS_PER_HOUSEHOLD
from pipelines.roadclass import class_counts_line
from pipelines.store.areas import (
    fill_grid_population_from_buildings,
    grid_frame,
    grid_names,
    rebuild_admin_level,
    replace_grid_cells,
    roll_up_population,
)
from pipelines.store.loads import clear_rejects, new_load_id
from pipelines.store.party_indicators import refresh_party_facts
from pipelines.store.rows import geometries, point_rows, replace_rows, update_point_grids
from pipelines.summary import LoadSummary
from pipelines.validate import Prepared, prepare

__all__ = ["PERSONS_PER_HOUSEHOLD", "LoadSummary", "load_file", "refresh_grid_derivatives", "write_incidents"]

AREA_MARGIN_DEG = 0.02
"""Roads may reach this far (about 2 km) beyond the grids."""


def load_file(
    db_path: str | Path,
    kind_name: str,
    path: str | Path,
    crs: str | None = None,
    mapping: dict[str, str] | None = None,
    progress: bool | None = None,
    options: LoadOptions | None = None,
) -> LoadSummary:
    """Read, validate and load ``path`` as ``kind_name``; returns the summary."""
    if kind_name not in KINDS:
        raise LoadError(f"unknown kind {kind_name!r}: use one of {', '.join(KINDS)}")
    kind = KINDS[kind_name]
    options = options or LoadOptions()
    path = Path(path)
    stages = tqdm(
        total=4, desc=f"load {kind.name}", unit="step", disable=None if progress is None else not progress, leave=False
    )
    with stages:
        stages.set_postfix_str("read")
        raw = read_table(path, kind.name, frozenset(options.values.get("type", {})))
        stages.update()
        con = store.connect(db_path)
        try:
            stages.set_postfix_str("validate")
            check_tz(options.tz)
            prepared = prepare(kind, raw, path.name, crs, mapping, options, database_tz(con, options.tz))
            stages.update()
            area = read_area(con)
            if kind.name != "grids" and area is None:
                raise LoadError(f"no grids in {db_path}: load the grid polygons first (gridtwin load grids FILE)")
            prepared, row_numbers, merged = _drop_merged(prepared)
            summary = LoadSummary(
                kind.name,
                path.name,
                rows_in=len(prepared.frame) + merged,
                repaired=prepared.repaired,
                merged=merged,
                notes=list(prepared.notes),
            )
            stages.set_postfix_str("index")
            sha = file_sha256(path)
            stages.update()
            stages.set_postfix_str("write")
            with store.transaction(con):
                load_id = new_load_id(con)
                clear_rejects(con, kind.name, sha)
                accepted, problems = WRITERS[kind.name](con, prepared, area, summary, options)
                if kind.name != "incidents":
                    refresh_party_facts(con)  # buildings and grids feed the party indicators
                quarantine(con, kind, load_id, path.name, sha, prepared, problems, summary, row_numbers)
                summary.loaded = int(accepted)
                record_summary(con, load_id, path, sha, crs, summary)
            stages.update()
        finally:
            con.close()
    return summary


def _drop_merged(prepared: Prepared) -> tuple[Prepared, np.ndarray, int]:
    """Rows merged into an earlier part are neither loaded nor rejected; keep the file's row numbers."""
    absorbed = prepared.merged if prepared.merged is not None else np.zeros(len(prepared.frame), dtype=bool)
    keep = ~absorbed
    row_numbers = np.flatnonzero(keep) + 1
    if not absorbed.any():
        return prepared, row_numbers, 0
    trimmed = Prepared(
        prepared.frame[keep].reset_index(drop=True),
        prepared.problems[keep].reset_index(drop=True),
        prepared.raw[keep].reset_index(drop=True),
        prepared.repaired,
        prepared.notes,
    )
    return trimmed, row_numbers, int(absorbed.sum())


def _outside_reason(grid_index: np.ndarray, problems: pd.Series) -> pd.Series:
    problems = problems.copy()
    fresh = (grid_index < 0) & (problems == "").to_numpy(bool)
    problems[fresh] = "outside the loaded area: no grid contains this point"
    return problems


# --- grids -----------------------------------------------------------------


def _derive_code(own: pd.Series, grid_code: pd.Series, digits: int) -> pd.Series:
    code = grid_code.astype("string")
    derivable = code.str.fullmatch(r"\d{12,}").fillna(False)
    return own.where(own.notna(), code.str.slice(0, digits).where(derivable))


def _write_grids(con, prepared: Prepared, area: Area | None, summary: LoadSummary, options: LoadOptions):
    frame = prepared.frame
    problems = prepared.problems.copy()
    frame["district_code"] = _derive_code(frame["district_code"], frame["grid_code"], 6)
    frame["street_code"] = _derive_code(frame["street_code"], frame["grid_code"], 9)
    frame["community_code"] = _derive_code(frame["community_code"], frame["grid_code"], 12)
    for column in UPPER_CODES:
        missing = frame[column].isna().to_numpy(bool) & (problems == "").to_numpy(bool)
        problems[missing] = (
            f"missing {column} (and grid_code is not a 12-digit division code or 15-digit unit-grid code to derive it)"
        )
    reject_overlaps(con, frame, problems)
    ok = (problems == "").to_numpy(bool)
    good = frame[ok]
    geoms = good["geometry"].to_numpy(dtype=object)
    rows = good[
        [
            "grid_code",
            "name",
            "community_code",
            "street_code",
            "district_code",
            "community_name",
            "street_name",
            "district_name",
            "population",
            "households",
        ]
    ].copy()
    rows["name"] = rows["name"].fillna(rows["grid_code"])
    rows["area_m2"] = area_m2(geoms)
    point = shapely.point_on_surface(geoms)
    rows["lon"], rows["lat"] = shapely.get_x(point), shapely.get_y(point)
    rows["geometry"] = shapely.to_wkb(geoms)
    replace_rows(con, "grids", rows)
    summary.notes.extend(refresh_grid_derivatives(con))
    return ok.sum(), problems


def refresh_grid_derivatives(con: duckdb.DuckDBPyConnection) -> list[str]:
    """After grids change: rebuild the H3 cover, the upper levels, the population roll-up, and re-assign points."""
    grids = grid_frame(con)
    geoms = geometries(grids["geometry"])
    replace_grid_cells(con, cover_frame(grids["grid_code"].to_numpy(), geoms))
    names = grid_names(con)
    levels = dissolve_levels(grids.drop(columns="geometry").merge(names, on="grid_code"), geoms)
    for table, frame in levels.items():
        rebuild_admin_level(con, table, frame)
    fill_grid_population_from_buildings(con)
    roll_up_population(con)
    area = read_area(con)
    notes = []
    for table in ("buildings", "facilities", "incidents"):
        points = point_rows(con, table)
        if points.empty:
            continue
        index = _assign_cells(area, points)
        update_point_grids(con, table, pd.DataFrame({"id": points["id"], "grid_index": index}), area.code_table)
        outside = int((index < 0).sum())
        if outside:
            notes.append(f"{outside:,} {table} are now outside every grid (kept, with no grid)")
    sync_derived_tables(con)
    return notes


def _assign_cells(area: Area, points: pd.DataFrame) -> np.ndarray:
    return area.locator.assign(
        points["lon"].to_numpy(float), points["lat"].to_numpy(float), points["h3_cell"].to_numpy(np.uint64)
    )


# --- points ----------------------------------------------------------------


def locate_points(area: Area, frame: pd.DataFrame, problems: pd.Series) -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    """Add h3_cell and grid_index (codes are joined on write); points outside every grid become rejects."""
    cells, index = area.locate(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float))
    problems = _outside_reason(index, problems)
    frame = frame.copy()
    frame["h3_cell"] = cells
    frame["grid_index"] = index
    ok = (problems == "").to_numpy(bool)
    return frame, problems, ok


def _write_facilities(con, prepared: Prepared, area: Area, summary: LoadSummary, options: LoadOptions):
    frame = fill_names(con, prepared.frame, summary.notes)
    frame, problems, ok = locate_points(area, frame, prepared.problems)
    columns = ["facility_id", "type", "name", "capacity", "address", "lon", "lat", "h3_cell", "grid_index"]
    replace_rows(con, "facilities", frame.loc[ok, columns], area.code_table)
    return ok.sum(), problems


BUILDING_COLUMNS = [
    "building_id",
    "name",
    "use",
    "floors",
    "height_m",
    "residents",
    "households",
    "area_m2",
    "lon",
    "lat",
    "h3_cell",
    "grid_index",
    "geometry",
]


def _write_buildings(con, prepared: Prepared, area: Area, summary: LoadSummary, options: LoadOptions):
    frame = prepared.frame.copy()
    geoms = frame["geometry"].to_numpy(dtype=object)
    is_polygon = np.isin(shapely.get_type_id(geoms), (3, 6))
    footprint = np.where(is_polygon, area_m2(np.where(is_polygon, geoms, None)), np.nan)
    inside = shapely.point_on_surface(geoms)
    frame["lon"], frame["lat"] = shapely.get_x(inside), shapely.get_y(inside)
    frame["residents"], counts = residents.estimate(frame, footprint, options.densities)
    frame["floors"] = frame["floors"].astype("Float64").round().astype("Int64")  # estimate used 2.5; stored whole
    frame["households"] = (
        frame["households"]
        .astype("Float64")
        .fillna((frame["residents"].astype("Float64") / PERSONS_PER_HOUSEHOLD).round())
        .astype("Int64")
    )
    frame["area_m2"] = footprint
    frame, problems, ok = locate_points(area, frame, prepared.problems)
    frame["geometry"] = shapely.to_wkb(np.where(ok, geoms, None))
    summary.notes.append(
        f"residents: {counts['given']:,} given, {counts['households']:,} from households, {counts['area']:,} "
        "estimated from floor area and use"
    )
    unknown = int((frame["residents"].isna().to_numpy(bool) & ok).sum())
    if unknown:
        summary.notes.append(
            f"{unknown:,} point building(s) have no footprint and no residents/households column: their residents "
            "are unknown (count 0 in coverage); map a population column with --map residents=COLUMN"
        )
    replace_rows(con, "buildings", frame.loc[ok, BUILDING_COLUMNS], area.code_table)
    fill_grid_population_from_buildings(con)
    roll_up_population(con)
    return ok.sum(), problems


def _write_roads(con, prepared: Prepared, area: Area, summary: LoadSummary, options: LoadOptions):
    frame = prepared.frame
    problems = prepared.problems.copy()
    west, south, east, north = area.bounds
    lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
    outside = ~(
        (lon >= west - AREA_MARGIN_DEG)
        & (lon <= east + AREA_MARGIN_DEG)
        & (lat >= south - AREA_MARGIN_DEG)
        & (lat <= north + AREA_MARGIN_DEG)
    )
    fresh = outside & (problems == "").to_numpy(bool)
    problems[fresh] = "outside the loaded area: the road is more than 2 km from every grid"
    ok = (problems == "").to_numpy(bool)
    geoms = frame["geometry"].to_numpy(dtype=object)[ok]
    rows = frame.loc[ok, ["road_id", "name", "class"]].copy()
    rows["length_m"] = length_m(geoms)
    rows["geometry"] = shapely.to_wkb(geoms)
    replace_rows(con, "roads", rows)
    line = class_counts_line(rows["class"])
    if line:
        summary.notes.append(line)
    return ok.sum(), problems


INCIDENT_COLUMNS = [
    "incident_id",
    "category",
    "affair_class",
    "source",
    "priority",
    "status",
    "reported_at",
    "due_at",
    "resolved_at",
    "description",
    "address",
    "reporter_name",
    "reporter_phone",
    "satisfaction",
    "lon",
    "lat",
    "h3_cell",
    "grid_index",
]


def write_incidents(con, frame: pd.DataFrame, area: Area, actor: str, note: str) -> int:
    """Store located incident rows with their imported history; ids already stored keep their status and
    history and only update description/address (returns how many)."""
    columns = INCIDENT_COLUMNS + (["archived"] if "archived" in frame.columns else [])
    return upsert_incidents(con, frame[columns], area.code_table, actor, note)


def _write_incidents(con, prepared: Prepared, area: Area, summary: LoadSummary, options: LoadOptions):
    frame, problems = incident_defaults(con, prepared.frame, prepared.problems, summary.notes, options)
    frame, problems, ok = locate_points(area, frame, problems)
    kept = write_incidents(con, frame[ok], area, "import", f"loaded from {summary.source}")
    if kept:
        summary.notes.append(
            f"{kept:,} incident id(s) were already stored: their status and history were kept, only description and "
            "address updated from the file"
        )
    return ok.sum(), problems


WRITERS = {
    "grids": _write_grids,
    "buildings": _write_buildings,
    "roads": _write_roads,
    "facilities": _write_facilities,
    "incidents": _write_incidents,
}
