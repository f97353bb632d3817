"""A small party fixture written out by hand: six test grids, six buildings, orgs, members, staffing.

Grids (population / households from tests/data/grids.geojson):
  community C1 330106001001: G1 …001001 (900/350), G2 …001002 (901/350), G4 …001004 (910/350), G5 …001005 (911/350)
  community C2 330106001002: G3 …002003 (902/350), G6 …002006 (912/350)
Buildings: G1: B1 100 residents, B2 50, B3 shop (0); G2: B4 80; G3: B5 60, B6 40.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest

from pipelines import store
from pipelines.loaders import load_file
from pipelines.party.load import load_party_file
from pipelines.store.party_indicators import refresh_party_facts
from pipelines.store.rows import append_rows

CODES = ("330106001001001", "330106001001002", "330106001002003", "330106001001004", "330106001001005",
         "330106001002006")  # fmt: skip
G = dict(enumerate(CODES, start=1))
C1, C2, STREET = "330106001001", "330106001002", "330106001"
AS_OF = dt.date(2026, 11, 22)

ORGS = """组织编号,组织名称,组织类型,上级组织,所在单元,书记,书记电话,党员数,成立日期
O1,测试街道大工委,街道大工委,,330106001,王书记,13900000001,40,2018-07-01
O2,测试一社区大党委,社区大党委,测试街道大工委,330106001001,李书记,13900000002,30,2019-07-01
O3,测试网格1党支部,网格党支部,O2,330106001001001,张建国,13900000003,12,2020-07-01
O4,测试网格3党支部,网格党支部,O2,330106001002003,赵敏,13900000004,9,2021-07-01
O5,一号小区党支部,小区党支部,O3,E1,钱红,13900000005,6,2022-07-01
"""
MEMBERS = """党员编号,姓名,手机号,所属党组织,报到社区,工作单位,在职党员,报到日期,党内职务/身份,服务网格,楼栋编号
M1,孙楼长,13800000001,O3,,,否,,楼栋长,,B1
M2,周在职,13800000002,O3,330106001001,区教育局,是,2026-10-01,,330106001001002,
M3,吴未报,13800000003,O3,330106001001,区卫健局,是,,,330106001001001,
M4,郑志愿,13800000004,O4,测试二社区,区法院,是,2026-11-01,志愿者,330106001002003,
M5,冯志愿,13800000005,O3,,,否,,志愿者、党员中心户,330106001001001,
"""
HEADS = """楼栋编号,姓名,手机号,党员编号,是否党员
B1,孙楼长,13800000001,M1,是
B4,陈楼长,13800000006,,否
B5,褚楼长,13800000007,,
"""
PARTNERS = """单位编号,单位名称,单位类型,协议编号,签约日期,到期日期,共建项目,联系人,联系电话,社区编码,街道编码
P1,区教育局,机关单位,XY1,2026-01-01,2027-12-31,四点半课堂；助老送餐,林老师,13700000001,330106001001,
P2,市供电公司,国有企业,XY2,2025-01-01,2026-06-30,义诊进社区,何经理,13700000002,,330106001
P3,区人民医院,医院,XY3,2026-03-01,,义诊进社区,吕主任,13700000003,测试二社区,
"""
TEAMS = """团队编号,团队名称,服务网格,党员编号,姓名,手机号,分工
T1,网格1组团服务队,330106001001001,M3,吴未报,13800000003,队长
T1,网格1组团服务队,330106001001001,M5,冯志愿,13800000005,助老帮扶
"""
HOURS = """记录编号,党员编号,姓名,服务网格,服务日期,服务时长,服务内容
V1,M4,郑志愿,330106001002003,2026-11-20,3,助老服务
V2,M5,冯志愿,330106001001001,2026-11-01,2,环境整治
V3,M5,冯志愿,330106001001001,2026-10-01,4,环境整治
"""
STAFF = """社区编码,社工人数,专职人员数,统计日期
330106001001,5,6,2026-11-01
测试二社区,1,3,2026-11-01
"""
ESTATES = """小区编码,小区名称,所属网格
E1,一号小区,330106001001001
E2,二号小区,330106001001001
E3,三号小区,330106001002003
"""


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def party_template(tmp_path_factory, data_dir):
    """The fixture database, built once per session; tests that write use :func:`party_db` (a copy)."""
    tmp_path = tmp_path_factory.mktemp("party")
    grid_db = tmp_path / "party.duckdb"
    load_file(grid_db, "grids", data_dir / "grids.geojson", progress=False)
    con = store.connect(grid_db)
    grids = con.execute("SELECT grid_code, lon, lat FROM grids").df().set_index("grid_code")
    con.close()
    rows = [("B1", 1, "住宅", 100), ("B2", 1, "住宅", 50), ("B3", 1, "商业", 0), ("B4", 2, "住宅", 80),
            ("B5", 3, "住宅", 60), ("B6", 3, "住宅", 40)]  # fmt: skip
    buildings = pd.DataFrame(
        [
            {
                "building_id": b,
                "use": use,
                "residents": residents,
                "households": residents // 2,
                "lon": grids.loc[G[g], "lon"] + 1e-6 * i,
                "lat": grids.loc[G[g], "lat"],
            }
            for i, (b, g, use, residents) in enumerate(rows)
        ]
    )
    buildings.to_csv(tmp_path / "b.csv", index=False)
    load_file(grid_db, "buildings", tmp_path / "b.csv", progress=False)
    for kind, text in (("estates", ESTATES), ("party_orgs", ORGS), ("party_members", MEMBERS),
                       ("building_heads", HEADS), ("partners", PARTNERS), ("service_teams", TEAMS),
                       ("volunteer_hours", HOURS), ("social_workers", STAFF)):  # fmt: skip
        summary = load_party_file(grid_db, kind, write(tmp_path, f"{kind}.csv", text))
        assert summary.rejected == 0, (kind, summary.lines())
    con = store.connect(grid_db)
    workers = pd.DataFrame(
        {
            "worker_id": ["W1", "W2", "W3", "W4"],
            "name": ["甲", "乙", "丙", "丁"],
            "role": "专职网格员",
            "grid_code": [G[1], G[1], G[2], G[3]],
            "phone": "13600000000",
        }
    )
    append_rows(con, "grid_workers", workers)
    con.execute("INSERT INTO coverage_types VALUES ('党群服务中心', 15, 1000, true, 'test', 1, 1)")
    con.execute(
        "INSERT INTO building_access VALUES ('B1', '党群服务中心', 500, 8), ('B2', '党群服务中心', 1500, 25),"
        " ('B4', '党群服务中心', 900, 15), ('B6', '党群服务中心', 1000, 17)"
    )
    refresh_party_facts(con)  # as write_coverage does after a coverage run
    con.close()
    return grid_db


@pytest.fixture
def party_db(party_template, tmp_path):
    path = tmp_path / "party.duckdb"
    shutil.copy(party_template, path)
    return path
