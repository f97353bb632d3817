"""Rebuild the sample inputs in data/ from the demo city: `python data/make_samples.py`.

sample_grids.geojson: the grids of two demo communities, as a city would export them.
sample_12345.csv: a GBK-encoded 12345-hotline export with its own column names;
three rows have no coordinates and one has latitude and longitude swapped.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines.generate import generate
from pipelines.store import geometries

HERE = Path(__file__).parent


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.duckdb"
        generate(db, "demo", seed=7, end=dt.datetime(2026, 11, 22, 18), incidents=3000, progress=False)
        con = duckdb.connect(str(db), read_only=True)
        grids = con.execute("""SELECT grid_code, name, community_code, street_code, district_code, community_name,
                                      street_name, district_name, population, households, geometry
                               FROM grids WHERE community_code IN (SELECT community_code FROM communities
                                                                   ORDER BY community_code LIMIT 2)""").df()
        codes = tuple(grids["grid_code"])
        incidents = con.execute(
            "SELECT * FROM incidents WHERE list_contains(?, grid_code) ORDER BY reported_at DESC LIMIT 40",
            [list(codes)],
        ).df()
        con.close()
    gdf = gpd.GeoDataFrame(grids.drop(columns="geometry"), geometry=geometries(grids["geometry"]), crs="EPSG:4326")
    gdf.to_file(HERE / "sample_grids.geojson", driver="GeoJSON")
    export = pd.DataFrame(
        {
            "工单编号": "12345-" + incidents["incident_id"].str[-6:],
            "诉求分类": incidents["category"],
            "来电时间": incidents["reported_at"].dt.strftime("%Y/%m/%d %H:%M"),
            "问题描述": incidents["description"],
            "东经": incidents["lon"].round(6).astype(str),
            "北纬": incidents["lat"].round(6).astype(str),
            "办理状态": incidents["status"].map(
                {
                    "reported": "待受理",
                    "accepted": "已受理",
                    "dispatched": "已派单",
                    "in_progress": "处理中",
                    "resolved": "已办结",
                    "evaluated": "已回访",
                }
            ),
            "联系电话": incidents["reporter_phone"],
        }
    )
    export.loc[[3, 11, 27], ["东经", "北纬"]] = ""
    export.loc[19, ["东经", "北纬"]] = export.loc[19, ["北纬", "东经"]].to_numpy()
    assert np.all(export["工单编号"].str.len() > 6)
    export.to_csv(HERE / "sample_12345.csv", index=False, encoding="gbk")


if __name__ == "__main__":
    main()
