"""Row identity: ids for files without an id column, duplicates, and features split into parts.

* A row without an id gets ``<K><16 hex>``, a hash of its geometry (WKB of the WGS84 shape) and its attributes,
  so a geometry-only file keeps every distinct feature and reloading the same file replaces the same rows.
  Rows equal in geometry AND attributes are true duplicates and are rejected.
* Features sharing an id (a building cut at tile seams, a road split into ways) are merged into one
  (Multi)geometry with ``--merge-parts``, and by default when the ids are OpenStreetMap ids (an ``osm_id`` /
  ``@id`` / ``osm_way_id`` column, or an ``.osm``/``.osm.pbf`` file).  Otherwise they are rejected as duplicates.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import shapely

OSM_ID_COLUMNS = ("osm_id", "@id", "osm_way_id", "osm_rel_id")
MERGEABLE = {"buildings": "polygon", "roads": "line", "grids": "polygon"}


def row_ids(ids: pd.Series, attributes: pd.DataFrame, geoms: np.ndarray | None, prefix: str) -> pd.Series:
    """The file's ids, or a stable hash of the row's geometry and attributes where there is none."""
    if ids.notna().all():
        return ids
    parts = attributes.astype("string").fillna("")
    if geoms is not None:
        parts = parts.assign(_wkb=pd.Series(shapely.to_wkb(geoms, hex=True), index=attributes.index).fillna(""))
    hashed = pd.util.hash_pandas_object(parts, index=False).to_numpy()
    generated = pd.Series([f"{prefix}{h:016x}" for h in hashed], index=ids.index, dtype="string")
    return ids.fillna(generated)


def duplicate_reasons(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(mask of repeated ids after the first, reason per row)."""
    duplicated = ids.duplicated(keep="first").to_numpy(bool)
    if not duplicated.any():
        return duplicated, np.array([], dtype=object)
    rows = pd.Series(np.arange(1, len(ids) + 1), index=ids.index)
    first_row = rows.groupby(ids.to_numpy()).transform("first")
    reason = "duplicate id " + ids.astype(str) + " (first on row " + first_row.astype(str) + ")"
    return duplicated, reason.to_numpy(dtype=object)


def merge_parts(frame: pd.DataFrame, good: np.ndarray, id_column: str, shape: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Merge good rows sharing an id into their first row; returns the frame and a mask of rows merged away."""
    ids = frame[id_column]
    candidates = good & ids.duplicated(keep=False).to_numpy(bool)
    absorbed = np.zeros(len(frame), dtype=bool)
    if not candidates.any():
        return frame, absorbed
    frame = frame.copy()
    picked = frame[candidates]
    groups = pd.Series(np.flatnonzero(candidates)).groupby(picked[id_column].to_numpy(), sort=False)
    geoms = frame["geometry"].to_numpy(dtype=object).copy()
    for _, positions in groups:
        first, rest = positions.iloc[0], positions.iloc[1:].to_numpy()
        geoms[first] = _merge(geoms[positions.to_numpy()], shape)
        absorbed[rest] = True
    frame["geometry"] = geoms
    centre = shapely.point_on_surface(geoms) if shape == "polygon" else shapely.centroid(geoms)
    frame["lon"], frame["lat"] = shapely.get_x(centre), shapely.get_y(centre)
    return frame, absorbed


def _merge(parts: np.ndarray, shape: str) -> shapely.Geometry:
    merged = shapely.union_all(parts)
    if shape == "line":
        merged = shapely.line_merge(merged)
    return merged


def wants_merge(raw_columns: list, is_osm_file: bool, merge_parts_option: bool | None) -> bool:
    if merge_parts_option is not None:
        return merge_parts_option
    return is_osm_file or any(str(c).lower() in OSM_ID_COLUMNS for c in raw_columns)


_DETAIL = re.compile(r"^(duplicate id) .*$")


def reason_key(reason: str) -> str:
    """The kind of a row's reason, without its row-specific detail: what summaries group by."""
    return _DETAIL.sub(r"\1", reason)
