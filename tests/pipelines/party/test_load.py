"""Party rosters: bad rows go to rejects with their reason, good rows load, reloads replace, headers are checked."""

from __future__ import annotations

import pytest

from pipelines import store
from pipelines.errors import LoadError
from pipelines.party.load import load_party_file
from pipelines.store.loads import rejects_frame
from tests.pipelines.party.conftest import write


def _reasons(db, kind):
    con = store.connect(db, read_only=True)
    try:
        frame = rejects_frame(con, kind)
    finally:
        con.close()
    return dict(zip(frame["record_id"], frame["reason"], strict=True))


def test_bad_member_rows_are_quarantined_with_reasons(party_db, tmp_path):
    text = """党员编号,姓名,手机号,所属党组织,报到社区,在职党员,报到日期,服务网格
N1,好党员,13811112222,O3,330106001001,是,2026-11-01,330106001001001
N2,错网格,13811112223,O3,,是,2026-11-01,999999999999999
N3,错日期,13811112224,O3,330106001001,是,2026-13-45,
N1,重复,13811112225,O3,330106001001,否,,
N5,,13811112226,O3,330106001001,否,,
N6,错社区,13811112227,O3,不存在社区,否,,
N7,错组织,12345,不存在支部,330106001001,否,,
"""
    summary = load_party_file(party_db, "party_members", write(tmp_path, "m.csv", text))
    assert (summary.rows_in, summary.loaded, summary.rejected) == (7, 1, 6)
    reasons = _reasons(party_db, "party_members")
    assert "unknown 网格 (grid) 999999999999999" in reasons["N2"]
    assert "reported_on is not a date/time" in reasons["N3"]
    assert "duplicate id N1 (first on row 1)" in reasons["N1"]
    assert "missing name" in reasons["N5"]
    assert "unknown 社区 (community) 不存在社区" in reasons["N6"]
    assert "unknown party organisation 不存在支部" in reasons["N7"]
    assert "phone is not a phone number" in reasons["N7"]


def test_bad_org_rows(party_db, tmp_path):
    text = """组织编号,组织名称,组织类型,上级组织,所在单元,成立日期
X1,新支部,网格党支部,O2,330106001001004,2024-01-01
X2,怪组织,读书会,O2,330106001001004,2024-01-01
X3,孤支部,网格党支部,没有这个上级,330106001001005,2024-01-01
X4,错小区,小区党支部,O3,E99,2024-01-01
X5,,网格党支部,O2,330106001001005,2024-01-01
"""
    summary = load_party_file(party_db, "party_orgs", write(tmp_path, "o.csv", text))
    assert summary.loaded == 1
    reasons = _reasons(party_db, "party_orgs")
    assert "unknown organisation type 读书会: give its unit level" in reasons["X2"]
    assert "unknown parent organisation 没有这个上级" in reasons["X3"]
    assert "unknown 小区 (estate) E99" in reasons["X4"]
    assert "missing name" in reasons["X5"]
    con = store.connect(party_db, read_only=True)
    row = con.execute(
        "SELECT grid_code, community_code, level, parent_id FROM party_orgs WHERE org_id = 'X1'"
    ).fetchone()
    con.close()
    assert row == ("330106001001004", "330106001001", "党支部", "O2")


@pytest.mark.parametrize(
    ("kind", "text", "reason"),
    [
        ("volunteer_hours", "姓名,服务网格,服务日期,服务时长\n甲,330106001001001,2026-11-01,30\n", "hours must be >0"),
        ("volunteer_hours", "姓名,服务网格,服务日期,服务时长\n甲,330106001001001,昨天,2\n", "served_on is not a date"),
        ("building_heads", "楼栋编号,姓名\nB404,甲\n", "unknown 楼栋 (building) B404"),
        ("building_heads", "楼栋编号,姓名,是否党员\nB2,甲,也许\n", "party_member is not 是/否"),
        (
            "partners",
            "单位名称,签约日期,到期日期,社区编码\n某单位,2026-01-01,2025-01-01,330106001001\n",
            "expires before",
        ),
        ("partners", "单位名称,签约日期\n某单位,2026-01-01\n", "no 共建社区 (community) or 街道 (street)"),
        ("service_teams", "团队编号,服务网格,姓名,党员编号\nT9,330106001001001,甲,M404\n", "unknown party member M404"),
        ("social_workers", "社区编码,社工人数\n330106009009,3\n", "unknown 社区 (community) 330106009009"),
        ("social_workers", "社区编码,社工人数\n330106001001,-1\n", "social_workers must not be negative"),
        ("estates", "小区编码,小区名称,所属网格\nE9,九号小区,1234\n", "unknown 网格 (grid) 1234"),
    ],
)
def test_bad_rows_of_each_kind(party_db, tmp_path, kind, text, reason):
    summary = load_party_file(party_db, kind, write(tmp_path, f"{kind}.csv", text))
    assert summary.rejected == 1 and summary.loaded == 0
    assert any(reason in text for text in _reasons(party_db, kind).values())


def test_a_reload_replaces_the_rows(party_db, tmp_path):
    text = "社区编码,社工人数,专职人员数\n330106001002,9,9\n"
    load_party_file(party_db, "social_workers", write(tmp_path, "s.csv", text))
    con = store.connect(party_db, read_only=True)
    rows = con.execute("SELECT community_code, social_workers FROM social_workers ORDER BY 1").fetchall()
    con.close()
    assert rows == [("330106001001", 5), ("330106001002", 9)]


def test_a_file_without_the_required_columns_names_them(party_db, tmp_path):
    with pytest.raises(LoadError, match=r"missing required column\(s\) hours \(服务时长/时长\(小时\)\)"):
        load_party_file(
            party_db, "volunteer_hours", write(tmp_path, "v.csv", "姓名,服务网格,服务日期\n甲,G,2026-01-01\n")
        )


def test_xlsx_with_mapped_columns(party_db, tmp_path):
    import pandas as pd

    path = tmp_path / "staff.xlsx"
    pd.DataFrame({"社区": ["测试一社区"], "持证社工": [7]}).to_excel(path, index=False)
    summary = load_party_file(party_db, "social_workers", path, mapping={"social_workers": "持证社工"})
    assert summary.loaded == 1
