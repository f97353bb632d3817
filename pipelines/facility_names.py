"""Names for facilities a file leaves unnamed: ``<type>（<nearest named road>）``, else ``<type> <id>``.

A point of interest without a name is still a place residents can walk to; rejecting it would leave a real
kindergarten out of the coverage figures.  The nearest named road within :data:`ROAD_SEARCH_M` is used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo.network import LocalFrame
from pipelines.store.roads import named_roads

ROAD_SEARCH_M = 300.0


def fill_names(con, frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    missing = frame["name"].isna().to_numpy(bool) & frame["type"].notna().to_numpy(bool)
    if not missing.any():
        return frame
    frame = frame.copy()
    names, roads = named_roads(con)
    lon, lat = frame["lon"].to_numpy(float)[missing], frame["lat"].to_numpy(float)[missing]
    road = np.full(int(missing.sum()), None, dtype=object)
    if len(roads):
        local = LocalFrame.around(lon, lat)
        tree = shapely.STRtree(local.geoms_to_xy(roads))
        points = shapely.points(*local.to_xy(lon, lat))
        which = tree.query_nearest(points, max_distance=ROAD_SEARCH_M, all_matches=False)
        road[which[0]] = names[which[1]]
    types = frame["type"].to_numpy(dtype=object)[missing]
    ids = frame["facility_id"].astype(str).to_numpy(dtype=object)[missing]
    has_road = pd.notna(road)
    generated = np.where(
        has_road,
        types + "（" + np.where(has_road, road, "").astype(object) + "）",
        types + " " + ids,
    )
    frame.loc[missing, "name"] = generated
    notes.append(
        f"named {int(missing.sum()):,} unnamed facilities: {int(has_road.sum()):,} after the nearest road "
        f"(within {ROAD_SEARCH_M:.0f} m), the rest by type and id"
    )
    return frame
