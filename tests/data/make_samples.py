"""Regenerate the tiny committed test inputs: `python tests/data/make_samples.py`.

Six grids of 0.002° (about 190 m x 220 m) near Hangzhou, 2 rows x 3 columns,
with 15-digit codes extending a 12-digit community code.  The bad files are
bad on purpose; each test names what it expects from them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
WEST, SOUTH, STEP = 120.150, 30.250, 0.002

# WGS84 -> GCJ-02 pairs computed with prcoords (an independent implementation).
GCJ02_KNOWN = [
    # (wgs_lon, wgs_lat, gcj_lon, gcj_lat)
    (120.151, 30.251, 120.15570422325148, 30.248676335255123),
    (120.155, 30.253, 120.15969299313245, 30.250669517162937),
]


def grid_features() -> list[dict]:
    features = []
    for row in range(2):
        for col in range(3):
            x0, y0 = WEST + col * STEP, SOUTH + row * STEP
            ring = [[x0, y0], [x0 + STEP, y0], [x0 + STEP, y0 + STEP], [x0, y0 + STEP], [x0, y0]]
            community = "330106001001" if col < 2 else "330106001002"
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "grid_code": f"{community}{row * 3 + col + 1:03d}",
                        "name": f"测试网格{row * 3 + col + 1}",
                        "community_name": "测试一社区" if col < 2 else "测试二社区",
                        "street_name": "测试街道",
                        "district_name": "测试区",
                        "population": 900 + row * 10 + col,
                        "households": 350,
                    },
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
    return features


def write_geojson(path: Path, features: list[dict]) -> None:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1), encoding="utf-8"
    )


def main() -> None:
    grids = grid_features()
    write_geojson(HERE / "grids.geojson", grids)

    bowtie = {
        "type": "Feature",
        "properties": {"grid_code": "330106001002900", "name": "自相交网格"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[120.156, 30.254], [120.158, 30.256], [120.158, 30.254], [120.156, 30.256], [120.156, 30.254]]
            ],
        },
    }
    flat = {
        "type": "Feature",
        "properties": {"grid_code": "330106001002901", "name": "退化网格"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[120.150, 30.2545], [120.152, 30.2545], [120.154, 30.2545], [120.150, 30.2545]]],
        },
    }
    # The bow-tie lies north of the six grids, so it overlaps nothing.
    write_geojson(HERE / "grids_bad_polygons.geojson", [*grids, bowtie, flat])

    incidents = pd.DataFrame(
        {
            "工单编号": ["A001", "A002", "A003", "A004", "A005", "A006", "A002"],
            "诉求分类": ["噪声扰民", "车辆停放", "垃圾分类", "设施损坏", "占道经营", "井盖丢失", "车辆停放"],
            "来电时间": [
                "2026-11-20 08:15:00",
                "2026/11/20 09:30",
                "2026-11-20 10:00:00",
                "2026-11-21 11:00:00",
                "2026-11-21 12:00:00",
                "2026-11-21 13:00:00",
                "2026/11/20 09:30",
            ],
            "东经": ["120.1510", "120.1530", "", "30.2530", "121.5000", "120.1550", "120.1530"],
            "北纬": ["30.2510", "30.2530", "", "120.1530", "31.2000", "30.2530", "30.2530"],
            "问题描述": [
                "夜间施工噪声",
                "<script>alert(1)</script>车辆堵门",
                "无坐标",
                "经纬度颠倒",
                "上海的点",
                "新类别",
                "重复",
            ],
            "办理状态": ["已办结", "处理中", "待受理", "待受理", "待受理", "待受理", "处理中"],
        }
    )
    incidents.to_csv(HERE / "hotline_12345_gbk.csv", index=False, encoding="gbk")

    gcj = pd.DataFrame(
        {
            "incident_id": ["G1", "G2"],
            "category": ["市容环境", "安全隐患"],
            "reported_at": ["2026-11-21T08:00:00", "2026-11-21T09:00:00"],
            "lng": [p[2] for p in GCJ02_KNOWN],
            "lat": [p[3] for p in GCJ02_KNOWN],
        }
    )
    gcj.to_csv(HERE / "incidents_gcj02.csv", index=False, encoding="utf-8-sig")

    pd.DataFrame({"name": ["卫生站"], "lon": [120.151], "lat": [30.251]}).to_csv(
        HERE / "facilities_missing_type.csv", index=False
    )
    facilities = pd.DataFrame(
        {
            "facility_id": ["F1", "F2", "F3"],
            "type": ["幼儿园", "养老服务站", "菜市场"],
            "name": ["测试幼儿园", "测试养老站", "测试菜场"],
            "capacity": ["120", "40", "x"],
            "经度": [120.151, 120.155, 120.153],
            "纬度": [30.251, 30.253, 30.2525],
        }
    )
    facilities.to_excel(HERE / "facilities.xlsx", index=False)

    roads = [
        {
            "type": "Feature",
            "properties": {"road_id": "L1", "name": "测试路", "class": "支路"},
            "geometry": {"type": "LineString", "coordinates": [[120.150, 30.252], [120.156, 30.252]]},
        },
        {
            "type": "Feature",
            "properties": {"road_id": "L2", "name": "远方路", "class": "支路"},
            "geometry": {"type": "LineString", "coordinates": [[121.5, 31.2], [121.6, 31.2]]},
        },
    ]
    write_geojson(HERE / "roads.geojson", roads)
    buildings = [
        {
            "type": "Feature",
            "properties": {"building_id": "B1", "floors": 6, "use": "住宅"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [120.1505, 30.2505],
                        [120.1508, 30.2505],
                        [120.1508, 30.2507],
                        [120.1505, 30.2507],
                        [120.1505, 30.2505],
                    ]
                ],
            },
        },
        {
            "type": "Feature",
            "properties": {"building_id": "B2", "floors": 3, "use": "商业", "residents": 0},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [120.1545, 30.2525],
                        [120.1548, 30.2525],
                        [120.1548, 30.2527],
                        [120.1545, 30.2527],
                        [120.1545, 30.2525],
                    ]
                ],
            },
        },
    ]
    write_geojson(HERE / "buildings.geojson", buildings)


if __name__ == "__main__":
    main()
