"""The data-quality page's view model (数据质量) against the report and the tables it reads."""

from __future__ import annotations

import shutil

import pytest

from dashboard.data import DashboardData
from dashboard.views import quality
from pipelines.store.loads import record_load
from tests.conftest import DEMO_END


@pytest.fixture(scope="module")
def data(demo_db, tmp_path_factory):
    """The demo city with one recorded load of a hotline file, two of its rows rejected."""
    path = tmp_path_factory.mktemp("quality") / "demo.duckdb"
    shutil.copy(demo_db, path)
    view = DashboardData(path, clock=lambda: DEMO_END)
    con = view.con
    record_load(
        con,
        {
            "load_id": 9001,
            "kind": "incidents",
            "source_file": "hotline.csv",
            "file_sha256": "abc",
            "crs": "EPSG:4326",
            "rows_in": 12,
            "rows_loaded": 10,
            "rows_rejected": 2,
            "rows_repaired": 0,
        },
    )
    con.execute(
        "INSERT INTO rejects VALUES (9001, 'incidents', 'hotline.csv', 'abc', 3, 'X1', 'unknown status', '{}'),"
        " (9001, 'incidents', 'hotline.csv', 'abc', 7, 'X2', 'outside the loaded area; unknown status', '{}')"
    )
    con.execute("DELETE FROM facilities WHERE type = '菜市场'")  # a required standard type with none loaded
    yield view
    view.close()


def _by_key(sections):
    return {s.key: s for s in sections}


def test_sections_show_the_report_tables(data):
    sections = _by_key(quality.sections(data, "zh"))
    assert list(sections) == ["loads", "reasons", "topology", "outside", "far", "facilities"]
    assert sections["loads"].rows == [
        {
            "kind": "事件",
            "source_file": "hotline.csv",
            "rows_in": 12,
            "rows_loaded": 10,
            "rows_rejected": 2,
            "rows_repaired": 0,
        }
    ]
    assert {(r["reason"], r["rows"]) for r in sections["reasons"].rows} == {
        ("unknown status", 2),
        ("outside the loaded area", 1),
    }
    outside = {r["kind"]: r for r in sections["outside"].rows}
    assert outside["事件"]["rejected"] == 1
    facilities = {r["type"]: r for r in sections["facilities"].rows}
    assert facilities["菜市场"]["facilities"] == 0 and facilities["菜市场"]["state"] == "缺失：必配但没有设施"
    shown = {r["type"] for r in sections["facilities"].rows if r["facilities"] > 0}
    with data.cursor() as cur:
        loaded = {row[0] for row in cur.execute("SELECT DISTINCT type FROM facilities").fetchall()}
    assert shown == loaded
    for section in sections.values():  # every column a row has is a column of the table
        ids = [c["id"] for c in section.columns]
        assert all(set(row) == set(ids) for row in section.rows)


def test_far_buildings_and_topology_agree_with_the_report(data):
    from pipelines.quality import quality_report

    with data.cursor() as cur:
        report = quality_report(cur)
    sections = _by_key(quality.sections(data, "en"))
    assert len(sections["far"].rows) == min(len(report.far_buildings), quality.MAX_ROWS)
    assert f"{len(report.far_buildings):,} buildings." in sections["far"].note
    assert len(sections["topology"].rows) == min(len(report.topology), quality.MAX_ROWS)
    assert sections["loads"].title == "Loads (latest of each file)"
    assert sections["loads"].rows[0]["kind"] == "incidents"
