"""The generated party layer has the gaps the page must show, is deterministic; the CLI and the dispatch view."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines import store
from pipelines.cli import main
from pipelines.incidents.view import incident_view
from pipelines.party.contacts import grid_party_view
from pipelines.party.generate import generate_party
from pipelines.party.indicators import indicator_table
from tests.conftest import DEMO_END
from tests.pipelines.party.conftest import G


@pytest.fixture(scope="module")
def demo(demo_db):
    con = store.connect(demo_db, read_only=True)
    yield con
    con.close()


def test_the_demo_has_party_data_with_gaps(demo):
    grids = indicator_table(demo, "grid", None, DEMO_END.date())
    assert 0 < (grids["grid_org_coverage"] == 0).sum() < len(grids)  # grids without a branch
    assert (grids["head_coverage"] < 1).sum() > 0  # buildings without a 楼栋长
    communities = indicator_table(demo, "community", None, DEMO_END.date())
    assert communities["understaffed_communities"].sum() > 0  # communities under the staffing standard
    assert (communities["social_worker_shortfall"] > 0).any()
    assert communities["partners"].sum() > 0 and (communities["partners"] == 0).any()
    assert communities["volunteer_hours_per_1000"].gt(0).all()
    assert communities["centre_coverage"].between(0, 1).all() and communities["centre_coverage"].lt(1).any()


def test_the_generator_is_deterministic(party_db):
    con = store.connect(party_db)
    first = generate_party(con, 3, dt.datetime(2026, 11, 22))
    orgs = con.execute("SELECT * FROM party_orgs ORDER BY org_id").df()
    members = con.execute("SELECT member_id, name, roles, grid_code FROM party_members ORDER BY member_id").df()
    second = generate_party(con, 3, dt.datetime(2026, 11, 22))
    assert first == second
    assert orgs.equals(con.execute("SELECT * FROM party_orgs ORDER BY org_id").df())
    assert members.equals(con.execute("SELECT member_id, name, roles, grid_code FROM party_members ORDER BY 1").df())
    assert con.execute("SELECT count(*) FROM party_orgs WHERE district_code IS NULL").fetchone()[0] == 0
    con.close()


def test_cli_party_and_summary(party_template, capsys):
    assert main(["party", "--db", str(party_template), "--level", "community"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "党建引领 indicators per community"
    assert "网格党组织覆盖率" in out[1] and "每万人社工数" in out[1]
    c1 = next(line for line in out if line.startswith("330106001001 "))
    assert "25.0%" in c1 and "50.0%" in c1  # grid and estate org coverage of C1
    assert main(["party", "--db", str(party_template), "--level", "grid", "--lang", "en"]) == 0
    grid_out = capsys.readouterr().out
    assert "grid party organisation coverage" in grid_out and "social workers" not in grid_out
    assert main(["summary", "--db", str(party_template)]) == 0
    summary = capsys.readouterr().out
    assert "party organisations by type: 网格党支部 2, " in summary
    assert "party members: 5, in-service reported (在职党员报到) 2" in summary


def test_cli_party_bad_parent(party_template, capsys):
    assert main(["party", "--db", str(party_template), "--level", "grid", "--parent", "999"]) == 1
    assert "no grid in" in capsys.readouterr().err


def test_dispatch_view_masks_names_for_viewers(party_template):
    con = store.connect(party_template, read_only=True)
    viewer = grid_party_view(con, G[1], reveal_names=False)
    dispatcher = grid_party_view(con, G[1], reveal_names=True)
    con.close()
    assert [b["org_id"] for b in dispatcher["branches"]] == ["O3"]
    assert dispatcher["branches"][0]["secretary"] == "张建国" and viewer["branches"][0]["secretary"] == "张**"
    assert {m["member_id"]: sorted(m["roles"]) for m in dispatcher["on_duty"]} == {
        "M1": ["楼栋长"],  # serves G1 through its building B1
        "M3": ["在职党员"],  # in service, not yet reported: still on duty in G1
        "M5": sorted(["志愿者", "党员中心户"]),
    }
    assert [h["building_id"] for h in dispatcher["building_heads"]] == ["B1"]
    assert sorted(t["name"] for t in dispatcher["team"]) == sorted(["吴未报", "冯志愿"])
    everyone = [*viewer["on_duty"], *viewer["team"], *viewer["building_heads"]]
    assert all(p["name"].endswith("*") and "****" in p["phone"] for p in everyone)
    assert all("****" in p["phone"] for p in dispatcher["team"])  # phones are never shown whole


def test_incident_suggestions_include_the_party_side(demo):
    from pipelines.incidents.repository import incident_record

    incident_id = demo.execute("SELECT incident_id FROM incidents WHERE grid_code IN"
                               " (SELECT grid_code FROM party_orgs WHERE unit_level = 'grid') LIMIT 1").fetchone()[0]  # fmt: skip
    record = incident_record(demo, incident_id)
    view = incident_view(demo, record, "viewer", DEMO_END)
    party = view["suggestions"]["party"]
    assert party["branches"] and party["on_duty"]
    assert party["branches"][0]["secretary"].endswith("*")


def test_organisations_are_named_after_their_unit(demo):
    """兰亭社区第1网格党支部, not 330180001001001网格党支部: the name starts with the unit's own name."""
    rows = demo.execute(
        """
        SELECT o.type, o.name, coalesce(g.name, c.name, s.name, o.unit_code) AS unit
        FROM party_orgs o
        LEFT JOIN grids g ON o.unit_level = 'grid' AND g.grid_code = o.unit_code
        LEFT JOIN communities c ON o.unit_level = 'community' AND c.community_code = o.unit_code
        LEFT JOIN streets s ON o.unit_level = 'street' AND s.street_code = o.unit_code
        WHERE o.unit_level IN ('grid', 'community', 'street')
        """
    ).fetchall()
    assert rows and all(name.startswith(unit) for _, name, unit in rows)
    assert not any(name[0].isdigit() for _, name, _ in rows)
    grid_branch = next(name for kind, name, _ in rows if kind == "网格党支部")
    assert grid_branch.endswith("网格党支部")
