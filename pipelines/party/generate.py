"""The synthetic city's party-building layer: organisations, members, 楼栋长, 共建单位, teams, volunteers, staffing.

Built from the grids, communities, streets and residential buildings already in the database, all
vectorised (the city scale has ~1M buildings), deterministic by seed, and with the gaps a real
district has: grids without a branch, estates without a 小区党支部, buildings without a 楼栋长,
communities below the staffing standard, expired agreements, members who never reported.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from pipelines.names import person_names, phone_numbers
from pipelines.party.domain import PARTNER_TYPES
from pipelines.store.party import clear_party, fill_hierarchy_codes, generator_inputs, replace_party_rows
from pipelines.store.party_indicators import refresh_party_facts

PROJECTS = ("助老送餐", "四点半课堂", "义诊进社区", "垃圾分类督导", "法律咨询", "楼道微更新", "文明养犬", "平安巡防")
EMPLOYERS = ("区教育局", "区卫健局", "市供电公司", "区人民医院", "区实验小学", "市自来水公司", "区税务局", "区法院")
SECTOR_ORGS = ("快递行业党支部", "外卖骑手党支部", "律师行业党支部", "物业行业党支部")
ACTIVITIES = ("助老服务", "环境整治", "文明劝导", "政策宣传", "平安巡逻", "关爱儿童")


NAME_SUFFIX = {
    "街道大工委": "大工委",
    "社区大党委": "大党委",
    "网格党支部": "党支部",
    "小区党支部": "党支部",
    "楼栋党小组": "党小组",
}
"""What follows the unit's name in an organisation's name (梅林街道大工委, 锦绣社区第1网格党支部); other types follow
it whole (锦绣社区兼合式党支部)."""


def _ids(prefix: str, n: int) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), 7))


def _dates(end: dt.date, days_back: np.ndarray) -> np.ndarray:
    return np.datetime64(end, "D") - days_back.astype("timedelta64[D]")


def _orgs(inputs: dict, rng: np.random.Generator, end: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    grids, communities, streets = inputs["grids"], inputs["communities"], inputs["streets"]
    buildings = inputs["buildings"]
    grid_share = np.where(rng.random(len(streets)) < 0.25, 0.7, 0.97)  # weaker streets leave more gaps
    street_share = pd.Series(grid_share, index=streets["street_code"])
    estate_count = 1 + (rng.random(len(grids)) < 0.5)
    estate_grid = np.repeat(np.arange(len(grids)), estate_count)
    estate_no = pd.Series(estate_grid).groupby(estate_grid).cumcount().to_numpy() + 1
    g = grids.iloc[estate_grid]
    estates = pd.DataFrame(
        {
            "estate_id": g["grid_code"].to_numpy() + "-E" + estate_no.astype(str),
            "name": g["grid_code"].str.slice(-3).to_numpy() + "-" + estate_no.astype(str) + "号小区",
            **{c: g[c].to_numpy() for c in ("grid_code", "community_code", "street_code", "district_code")},
        }
    )
    estates["name"] = "示例" + estates["name"]
    parts = [
        ("街道大工委", "street", streets["street_code"], streets["street_code"], None),
        ("社区大党委", "community", communities["community_code"], communities["community_code"], "S"),
    ]
    grid_keep = rng.random(len(grids)) < grids["street_code"].map(street_share).to_numpy()
    parts.append(("网格党支部", "grid", grids["grid_code"][grid_keep], grids["community_code"][grid_keep], "C"))
    estate_keep = rng.random(len(estates)) < 0.7
    parts.append(("小区党支部", "estate", estates["estate_id"][estate_keep], estates["grid_code"][estate_keep], "G"))
    building_keep = rng.random(len(buildings)) < 0.08
    parts.append(
        ("楼栋党小组", "building", buildings["building_id"][building_keep], buildings["grid_code"][building_keep], "G")
    )
    joint = communities["community_code"][rng.random(len(communities)) < 0.35]
    parts.append(("兼合式党支部", "community", joint, joint, "C"))
    sector = streets["street_code"].repeat(2)
    parts.append(("行业党组织", "street", sector, sector, "S"))
    frames = []
    for org_type, level, units, parents, parent_kind in parts:
        frames.append(
            pd.DataFrame(
                {"type": org_type, "unit_level": level, "unit_code": units.to_numpy(), "parent": parents.to_numpy()}
            )
        )
        frames[-1]["parent_kind"] = parent_kind
    orgs = pd.concat(frames, ignore_index=True)
    n = len(orgs)
    orgs["org_id"] = _ids("PO", n)
    street_org = dict(zip(streets["street_code"], orgs["org_id"][: len(streets)], strict=True))
    community_org = dict(
        zip(communities["community_code"], orgs["org_id"][len(streets) : len(streets) + len(communities)], strict=True)
    )
    grid_org = dict(
        zip(
            orgs.loc[orgs["type"] == "网格党支部", "unit_code"],
            orgs.loc[orgs["type"] == "网格党支部", "org_id"],
            strict=True,
        )
    )
    grid_community = dict(zip(grids["grid_code"], grids["community_code"], strict=True))
    parent = pd.Series(None, index=orgs.index, dtype=object)
    kind = orgs["parent_kind"]
    parent[kind == "S"] = orgs.loc[kind == "S", "parent"].map(street_org)
    parent[kind == "C"] = orgs.loc[kind == "C", "parent"].map(community_org)
    by_grid = orgs.loc[kind == "G", "parent"]
    parent[kind == "G"] = by_grid.map(grid_org).fillna(by_grid.map(grid_community).map(community_org))
    level_word = {"街道大工委": "党工委", "社区大党委": "党委", "楼栋党小组": "党小组"}
    orgs["name"] = _unit_names(orgs, inputs, estates) + orgs["type"].map(NAME_SUFFIX).fillna(orgs["type"])
    is_sector = (orgs["type"] == "行业党组织").to_numpy()
    orgs.loc[is_sector, "name"] = orgs.loc[is_sector, "name"].str.removesuffix("行业党组织") + np.resize(
        np.array(SECTOR_ORGS), is_sector.sum()
    )
    return (
        pd.DataFrame(
            {
                "org_id": orgs["org_id"],
                "name": orgs["name"],
                "type": orgs["type"],
                "level": orgs["type"].map(level_word).fillna("党支部"),
                "parent_id": parent,
                "unit_level": orgs["unit_level"],
                "unit_code": orgs["unit_code"],
                "secretary_name": person_names(n, rng),
                "secretary_phone": phone_numbers(n, rng),
                "members": rng.integers(3, 60, n),
                "founded_on": _dates(end, rng.integers(200, 4000, n)),
            }
        ),
        estates,
    )


def _unit_names(orgs: pd.DataFrame, inputs: dict, estates: pd.DataFrame) -> pd.Series:
    """The name of each organisation's unit as people say it (梅林街道, 锦绣社区第1网格, 锦绣社区12幢); the unit's
    code where it has no name."""
    names = {
        "street": inputs["streets"].set_index("street_code")["name"],
        "community": inputs["communities"].set_index("community_code")["name"],
        "grid": inputs["grids"].set_index("grid_code")["name"],
        "estate": estates.set_index("estate_id")["name"],
        "building": inputs["buildings"].set_index("building_id")["name"],
    }
    out = orgs["unit_code"].astype(str)
    for level, named in names.items():
        by_code = named[~named.index.duplicated()]  # a code loaded twice names its unit once
        here = (orgs["unit_level"] == level).to_numpy()
        out.loc[here] = orgs.loc[here, "unit_code"].map(by_code).fillna(orgs.loc[here, "unit_code"]).to_numpy()
    return out


def _heads_and_members(inputs: dict, rng: np.random.Generator, end: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    grids, communities, buildings = inputs["grids"], inputs["communities"], inputs["buildings"]
    weak = pd.Series(rng.random(len(communities)) < 0.15, index=communities["community_code"])
    share = np.where(buildings["community_code"].map(weak).fillna(False).to_numpy(bool), 0.5, 0.9)
    headed = buildings[rng.random(len(buildings)) < share]
    k = len(headed)
    party = rng.random(k) < 0.45
    heads = pd.DataFrame(
        {
            "building_id": headed["building_id"].to_numpy(),
            "name": person_names(k, rng),
            "phone": phone_numbers(k, rng),
            "party_member": party,
            **{c: headed[c].to_numpy() for c in ("grid_code", "community_code", "street_code", "district_code")},
        }
    )
    per_grid = rng.poisson(np.maximum(grids["population"].to_numpy(float), 0) / 120.0)
    grid_index = np.repeat(np.arange(len(grids)), per_grid)
    m = len(grid_index)
    roles = np.where(rng.random(m) < 0.4, "志愿者", "")
    roles = np.where(rng.random(m) < 0.1, np.char.add(roles, "、党员中心户"), roles)
    roles = np.where(rng.random(m) < 0.03, np.char.add(roles, "、网格员"), roles)
    roles = np.where(rng.random(m) < 0.04, np.char.add(roles, "、网格指导员"), roles)
    in_service = rng.random(m) < 0.35
    reported = in_service & (rng.random(m) < 0.8)
    members = pd.DataFrame(
        {
            "grid_code": grids["grid_code"].to_numpy()[grid_index],
            "community_code": grids["community_code"].to_numpy()[grid_index],
            "building_id": None,
            "roles": roles,
            "in_service": in_service,
            "employer": np.where(in_service, np.array(EMPLOYERS)[rng.integers(0, len(EMPLOYERS), m)], None),
            "reported_on": np.where(reported, _dates(end, rng.integers(1, 900, m)), np.datetime64("NaT")),
        }
    )
    head_members = pd.DataFrame(
        {
            "grid_code": heads["grid_code"][party],
            "community_code": heads["community_code"][party],
            "building_id": heads["building_id"][party],
            "roles": "楼栋长",
            "in_service": False,
            "employer": None,
            "reported_on": np.datetime64("NaT"),
        }
    )
    members = pd.concat([head_members, members], ignore_index=True)
    members["member_id"] = _ids("PM", len(members))
    members["name"] = np.concatenate([heads["name"][party].to_numpy(), person_names(m, rng)])
    members["phone"] = np.concatenate([heads["phone"][party].to_numpy(), phone_numbers(m, rng)])
    members["roles"] = members["roles"].str.strip("、").str.split("、").map(lambda r: [x for x in r if x])
    members.loc[members["in_service"], "roles"] = members.loc[members["in_service"], "roles"].map(
        lambda r: [*r, "在职党员"]
    )
    heads["member_id"] = None
    heads.loc[party, "member_id"] = members["member_id"][: party.sum()].to_numpy()
    return heads, members.sort_values(["grid_code", "member_id"], ignore_index=True)


def _teams_and_hours(members: pd.DataFrame, rng: np.random.Generator, end: dt.date):
    codes, start, count = np.unique(members["grid_code"].to_numpy(), return_index=True, return_counts=True)
    with_team = rng.random(len(codes)) < 0.8
    size = np.where(with_team, np.minimum(rng.integers(3, 7, len(codes)), count), 0)
    team_of = np.repeat(np.arange(len(codes)), size)
    pick = start[team_of] + (rng.random(len(team_of)) * count[team_of]).astype(int)
    picked = members.iloc[pick]
    teams = pd.DataFrame(
        {
            "team_id": np.char.add("T", codes[team_of].astype(str)),
            "team_name": np.char.add(codes[team_of].astype(str), "组团服务队"),
            "member_id": picked["member_id"].to_numpy(),
            "name": picked["name"].to_numpy(),
            "phone": picked["phone"].to_numpy(),
            "duty": np.array(["队长", "政策宣传", "矛盾调解", "助老帮扶"])[rng.integers(0, 4, len(pick))],
            "grid_code": codes[team_of],
        }
    ).drop_duplicates(["team_id", "member_id"], ignore_index=True)
    teams["entry_id"] = _ids("TE", len(teams))
    volunteers = members[members["roles"].map(lambda r: "志愿者" in r)]
    times = rng.poisson(2.0, len(volunteers))
    who = volunteers.iloc[np.repeat(np.arange(len(volunteers)), times)]
    n = len(who)
    hours = pd.DataFrame(
        {
            "record_id": _ids("VH", n),
            "member_id": who["member_id"].to_numpy(),
            "name": who["name"].to_numpy(),
            "served_on": _dates(end, rng.integers(0, 90, n)),
            "hours": rng.integers(2, 9, n) / 2.0,
            "activity": np.array(ACTIVITIES)[rng.integers(0, len(ACTIVITIES), n)],
            "grid_code": who["grid_code"].to_numpy(),
        }
    )
    return teams, hours


def _partners_and_staff(inputs: dict, rng: np.random.Generator, end: dt.date):
    communities, streets = inputs["communities"], inputs["streets"]
    per_community = rng.poisson(1.2, len(communities))
    per_street = rng.integers(2, 7, len(streets))
    c = communities.iloc[np.repeat(np.arange(len(communities)), per_community)]
    s = streets.iloc[np.repeat(np.arange(len(streets)), per_street)]
    n = len(c) + len(s)
    signed = _dates(end, rng.integers(30, 1500, n))
    expired = rng.random(n) < 0.1
    term = np.where(expired, rng.integers(1, 29, n), rng.integers(1500, 2200, n))
    projects = [list(p) for p in np.array(PROJECTS)[rng.integers(0, len(PROJECTS), (n, 2))]]
    partners = pd.DataFrame(
        {
            "partner_id": _ids("GJ", n),
            "name": np.array((*EMPLOYERS, "区文旅集团", "区城投公司"))[rng.integers(0, 10, n)],
            "unit_type": np.array(PARTNER_TYPES)[rng.integers(0, len(PARTNER_TYPES), n)],
            "agreement_no": np.char.add("GJXY-", np.arange(1, n + 1).astype(str)),
            "signed_on": signed,
            "expires_on": np.where(
                expired, _dates(end, rng.integers(1, 29, n)), signed + term.astype("timedelta64[D]")
            ),
            "projects": [sorted(set(p)) for p in projects],
            "community_code": np.concatenate([c["community_code"].to_numpy(), np.full(len(s), None)]),
            "street_code": np.concatenate([c["street_code"].to_numpy(), s["street_code"].to_numpy()]),
            "district_code": np.concatenate([c["district_code"].to_numpy(), s["district_code"].to_numpy()]),
        }
    )
    population = communities["population"].to_numpy(float)
    workers = np.round(population / 10000 * 18 * rng.uniform(0.5, 1.3, len(communities))).astype(int)
    paid = workers + rng.integers(0, 4, len(communities))
    paid = np.where(rng.random(len(communities)) < 0.12, rng.integers(1, 4, len(communities)), paid)
    staff = pd.DataFrame(
        {
            "community_code": communities["community_code"],
            "social_workers": np.minimum(workers, paid),
            "paid_staff": paid,
            "as_of": np.datetime64(end, "D"),
            "street_code": communities["street_code"],
            "district_code": communities["district_code"],
        }
    )
    return partners, staff


def generate_party(con: duckdb.DuckDBPyConnection, seed: int, end: dt.datetime) -> dict[str, int]:
    """Replace the party tables with a generated layer for the city in ``con``; returns rows per table."""
    rng = np.random.default_rng([seed, 14])
    day = end.date()
    inputs = generator_inputs(con)
    orgs, estates = _orgs(inputs, rng, day)
    heads, members = _heads_and_members(inputs, rng, day)
    teams, hours = _teams_and_hours(members, rng, day)
    partners, staff = _partners_and_staff(inputs, rng, day)
    tables = {
        "estates": estates,
        "party_orgs": orgs,
        "building_heads": heads,
        "party_members": members,
        "service_teams": teams,
        "volunteer_hours": hours,
        "partners": partners,
        "social_workers": staff,
    }
    clear_party(con)
    for table, frame in tables.items():
        replace_party_rows(con, table, frame, append=True)
    fill_hierarchy_codes(con)
    refresh_party_facts(con)
    return {table: len(frame) for table, frame in tables.items()}
