"""OpenStreetMap extracts (.osm XML, .osm.pbf) read directly, through GDAL's OSM driver (pyogrio).

The driver gives layers ``points``, ``lines``, ``multipolygons`` with a few tags as columns and the rest in
``other_tags`` (``"key"=>"value",…``).  Each kind takes its features and maps tags to our columns:

* roads: ``lines`` with ``highway``, ``railway`` or ``route=ferry``; ``class`` = the highway value, else the
  railway value (rail, subway, …), else ``ferry`` — so the walking filter can leave rail and ferries out.
  Other lines (rivers, power lines, fences) are not roads and are skipped, with a note.
* buildings: ``multipolygons`` with ``building``; ``use`` = its value, ``floors`` = ``building:levels``,
  ``height_m`` = ``height``; ids are ``way/…`` or ``relation/…``.  Points tagged ``building`` come as point
  buildings.
* facilities: points (and the centre of areas) with ``amenity``, ``shop``, ``healthcare``, ``social_facility``
  or ``leisure``; ``type`` = the tag value, mapped to a standard type by :data:`pipelines.values.FACILITY_WORDS`
  (or your ``--value type:TAG=TYPE``, which also keeps that tag).  Points of interest of other types are skipped
  with a count.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd
import pyogrio
import shapely

from pipelines.errors import LoadError
from pipelines.readers import RawTable
from pipelines.values import FACILITY_WORDS

FACILITY_KEYS = ("amenity", "shop", "healthcare", "social_facility", "leisure")


def tag(frame: pd.DataFrame, key: str) -> pd.Series:
    """A tag's value, from its own column when the driver gives one, else from ``other_tags``."""
    own = frame[key] if key in frame.columns else pd.Series(None, index=frame.index, dtype=object)
    if "other_tags" not in frame.columns:
        return own.astype("string")
    pattern = r'"' + re.escape(key) + r'"=>"((?:[^"\\]|\\.)*)"'
    found = frame["other_tags"].astype("string").str.extract(pattern, expand=False)
    return own.astype("string").fillna(found)


def _layer(path: Path, layer: str) -> pd.DataFrame:
    if "OSM" not in pyogrio.list_drivers():
        raise LoadError("this GDAL has no OSM driver: convert the extract to GeoPackage (ogr2ogr) and load that")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:
        raise LoadError(f"cannot read {path.name} as OpenStreetMap: {exc}") from exc


def road_class(highway: pd.Series, railway: pd.Series, route: pd.Series) -> pd.Series:
    """highway value, else railway value (rail, subway …), else ``ferry`` for route=ferry."""
    route = route.astype("string")
    return highway.astype("string").fillna(railway.astype("string")).fillna(route.where(route == "ferry"))


def fill_osm_class(frame: pd.DataFrame) -> pd.DataFrame:
    """An OSM-tagged road file (GeoJSON from Overpass, a GeoPackage …): railway and route=ferry lines get a class."""
    if "class" not in frame.columns or not ({"railway", "route"} & set(frame.columns)):
        return frame
    empty = pd.Series(pd.NA, index=frame.index, dtype="string")
    cls = road_class(frame["class"], frame.get("railway", empty), frame.get("route", empty))
    return frame.assign(**{"class": cls})


def _roads(path: Path) -> RawTable:
    lines = _layer(path, "lines")
    cls = road_class(tag(lines, "highway"), tag(lines, "railway"), tag(lines, "route"))
    keep = cls.notna().to_numpy(bool)
    frame = pd.DataFrame(
        {
            "road_id": "way/" + lines["osm_id"].astype(str),
            "name": lines["name"],
            "class": cls,
            "geometry": lines.geometry.to_numpy(),
        }
    )[keep]
    notes = [f"read {int(keep.sum()):,} OpenStreetMap ways as roads"]
    if (~keep).any():
        notes.append(f"skipped {int((~keep).sum()):,} OpenStreetMap lines that are not roads (rivers, fences, …)")
    return RawTable(frame.reset_index(drop=True), lines.crs, notes=notes, osm=True)


def _area_ids(areas: pd.DataFrame) -> pd.Series:
    way = "way/" + areas["osm_way_id"].astype("string")
    return way.fillna("relation/" + areas["osm_id"].astype("string"))


def _buildings(path: Path) -> RawTable:
    areas = _layer(path, "multipolygons")
    areas = areas[areas["building"].notna()]
    points = _layer(path, "points")
    points = points[tag(points, "building").notna().to_numpy(bool)]
    parts = []
    for frame, ids in ((areas, _area_ids(areas)), (points, "node/" + points["osm_id"].astype(str))):
        parts.append(
            pd.DataFrame(
                {
                    "building_id": ids,
                    "name": frame["name"],
                    "use": tag(frame, "building"),
                    "floors": tag(frame, "building:levels"),
                    "height_m": tag(frame, "height"),
                    "geometry": frame.geometry.to_numpy(),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    notes = [f"read {len(areas):,} OpenStreetMap building areas and {len(points):,} building points"]
    return RawTable(frame, areas.crs, notes=notes, osm=True)


def _facility_type(frame: pd.DataFrame) -> pd.Series:
    found = pd.Series(pd.NA, index=frame.index, dtype="string")
    for key in FACILITY_KEYS:
        found = found.fillna(tag(frame, key))
    return found


def _facilities(path: Path) -> RawTable:
    points = _layer(path, "points")
    areas = _layer(path, "multipolygons")
    parts = []
    for frame, prefix, geoms in (
        (points, "node/", points.geometry.to_numpy()),
        (areas, "", shapely.point_on_surface(areas.geometry.to_numpy())),
    ):
        ids = prefix + frame["osm_id"].astype(str) if prefix else _area_ids(frame)
        kind = _facility_type(frame)
        parts.append(
            pd.DataFrame(
                {
                    "facility_id": ids,
                    "type": kind,
                    "name": frame["name"],
                    "address": tag(frame, "addr:street"),
                    "geometry": geoms,
                }
            )[kind.notna().to_numpy(bool)]
        )
    frame = pd.concat(parts, ignore_index=True)
    known = frame["type"].str.lower().isin(list(FACILITY_WORDS)).to_numpy(bool)
    notes = [f"read {int(known.sum()):,} OpenStreetMap points of interest of a facility type"]
    if (~known).any():
        counts = frame.loc[~known, "type"].value_counts().head(5)
        shown = ", ".join(f"{k} {v:,}" for k, v in counts.items())
        notes.append(
            f"skipped {int((~known).sum()):,} points of interest of other types ({shown}); "
            f"load a type too by mapping it, e.g. --value 'type:{counts.index[0]}=YOUR_TYPE'"
        )
    return RawTable(frame.reset_index(drop=True), points.crs, notes=notes, osm=True), known


def read_osm(path: Path, kind_name: str | None, keep_types: frozenset[str] = frozenset()) -> RawTable:
    if kind_name == "roads":
        return _roads(path)
    if kind_name == "buildings":
        return _buildings(path)
    if kind_name == "facilities":
        raw, known = _facilities(path)
        keep = known | raw.frame["type"].str.lower().isin(keep_types).to_numpy(bool)
        raw.frame = raw.frame[keep].reset_index(drop=True)
        return raw
    raise LoadError(
        f"{path.name}: OpenStreetMap extracts load as roads, buildings or facilities, not {kind_name or 'this kind'}"
    )
