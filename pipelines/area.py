"""The loaded area: grids in code order with their H3 cover, for assigning points."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from geo.assign import GridCover, Locator, build_cover
from geo.h3cells import COVER_RES, POINT_RES, latlng_to_cells
from pipelines.store.areas import grid_cells_frame, grid_frame
from pipelines.store.rows import geometries

UPPER_CODES = ("community_code", "street_code", "district_code")


@dataclass
class Area:
    grids: pd.DataFrame
    """grid_code, community_code, street_code, district_code, ordered by grid_code."""
    geoms: np.ndarray
    cover: GridCover

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return tuple(shapely.total_bounds(self.geoms))

    @cached_property
    def locator(self) -> Locator:
        return Locator(self.cover, self.geoms)

    def locate(self, lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(H3 cells at the point resolution, grid index or -1) for each point."""
        cells = latlng_to_cells(lat, lng, POINT_RES)
        return cells, self.locator.assign(lng, lat, cells)

    @cached_property
    def code_rows(self) -> list[dict]:
        """Per grid (by position in :attr:`grids`): its grid code and upper codes, as plain values."""
        return self.grids[["grid_code", *UPPER_CODES]].to_dict("records")

    @cached_property
    def code_table(self) -> pa.Table:
        """grid_index (position in :attr:`grids`) with grid_code and upper codes: joined in SQL when writing."""
        table = self.grids[["grid_code", *UPPER_CODES]].copy()
        table.insert(0, "grid_index", np.arange(len(table), dtype=np.int64))
        return pa.Table.from_pandas(table, preserve_index=False)


def read_area(con: duckdb.DuckDBPyConnection) -> Area | None:
    grids = grid_frame(con)
    if grids.empty:
        return None
    geoms = geometries(grids.pop("geometry"))
    shapely.prepare(geoms)
    cells = grid_cells_frame(con)
    position = pd.Index(grids["grid_code"]).get_indexer(cells["grid_code"])
    order = np.lexsort((position, cells["h3_cell"].to_numpy(np.uint64)))
    cover = GridCover(
        cells=cells["h3_cell"].to_numpy(np.uint64)[order],
        grid=position[order].astype(np.int64),
        inside=cells["inside"].to_numpy(bool)[order],
        res=COVER_RES,
    )
    return Area(grids.reset_index(drop=True), geoms, cover)


def cover_frame(grid_codes: np.ndarray, geoms: np.ndarray) -> pd.DataFrame:
    cover = build_cover(geoms)
    return pd.DataFrame(
        {"h3_cell": cover.cells, "grid_code": np.asarray(grid_codes, dtype=object)[cover.grid], "inside": cover.inside}
    )


def dissolve_levels(grids: pd.DataFrame, geoms: np.ndarray) -> dict[str, pd.DataFrame]:
    """Community, street and district polygons as unions of their grids."""
    gdf = gpd.GeoDataFrame(grids.copy(), geometry=list(geoms), crs="EPSG:4326")
    levels = {}
    specs = (
        ("communities", "community_code", "community_name", ("street_code", "district_code")),
        ("streets", "street_code", "street_name", ("district_code",)),
        ("districts", "district_code", "district_name", ()),
    )
    for table, key, name_column, parents in specs:
        columns = [key, name_column, *parents, "geometry"]
        try:
            merged = gdf[columns].dissolve(by=key, aggfunc="first", method="coverage")
        except Exception:  # noqa: BLE001 - overlapping grids break the fast coverage union
            merged = gdf[columns].dissolve(by=key, aggfunc="first")
        merged = merged.reset_index()
        geometry = merged.geometry.to_numpy()
        point = shapely.point_on_surface(geometry)
        frame = pd.DataFrame({key: merged[key], "name": merged[name_column].fillna(merged[key])})
        for parent in parents:
            frame[parent] = merged[parent]
        frame["population"] = None
        frame["households"] = None
        frame["lon"], frame["lat"] = shapely.get_x(point), shapely.get_y(point)
        frame["geometry"] = shapely.to_wkb(geometry)
        levels[table] = frame
    return levels
