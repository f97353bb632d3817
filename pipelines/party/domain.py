"""The words of party building (党建引领): organisation types, members' roles, the staffing standards.

Organisations follow the grid hierarchy ("支部建在网格里"): each type sits by default in one kind
of unit (street, community, grid, 小区 = estate, building).  The standards are the defaults of the
editable ``party_standards`` table.
"""

from __future__ import annotations

UNIT_LEVELS = ("street", "community", "grid", "estate", "building")
"""The units an organisation can sit in, from the top down (estate = 小区)."""
UNIT_LEVEL_ALIASES = {
    "街道": "street",
    "镇": "street",
    "社区": "community",
    "村": "community",
    "网格": "grid",
    "小区": "estate",
    "楼栋": "building",
    "楼宇": "building",
    **{level: level for level in UNIT_LEVELS},
}

# type: (organisation level 组织层级, the unit it sits in by default)
ORG_TYPES: dict[str, tuple[str, str]] = {
    "街道大工委": ("党工委", "street"),
    "社区大党委": ("党委", "community"),
    "网格党支部": ("党支部", "grid"),
    "小区党支部": ("党支部", "estate"),
    "楼栋党小组": ("党小组", "building"),
    "兼合式党支部": ("党支部", "community"),
    "行业党组织": ("党支部", "street"),
}
ORG_TYPE_LABELS_EN = {
    "街道大工委": "street joint working committee",
    "社区大党委": "community joint party committee",
    "网格党支部": "grid party branch",
    "小区党支部": "estate party branch",
    "楼栋党小组": "building party group",
    "兼合式党支部": "joint party branch",
    "行业党组织": "sector party organisation",
}

MEMBER_ROLES = ("楼栋长", "党员中心户", "网格员", "志愿者", "网格指导员", "在职党员")
"""Roles a party member takes on (a member may hold several)."""
ROLE_SEPARATORS = r"[、,，;；/|\s]+"
DUTY_ROLES = ("网格员", "楼栋长", "志愿者", "在职党员", "网格指导员", "党员中心户")
"""Members with one of these roles serving a grid are suggested as responders for its incidents."""

PARTNER_TYPES = ("机关单位", "国有企业", "学校", "医院", "两新组织", "驻区部队")

# key: (default value, unit, label zh, label en, definition zh, definition en)
PARTY_STANDARDS: dict[str, tuple[float, str, str, str, str, str]] = {
    "social_workers_per_10k": (
        18.0,
        "人/万人",
        "社工配置标准",
        "social workers standard",
        "每万名常住居民应配备的社区专职工作者（社工）人数",
        "Community social workers required per 10,000 residents",
    ),
    "min_paid_staff": (
        4.0,
        "人",
        "社区最低专职人员数",
        "minimum paid staff per community",
        "专职（领薪）工作人员少于此数的社区列为力量薄弱社区",
        "Communities with fewer paid staff than this are flagged as under-staffed",
    ),
    "volunteer_window_days": (
        30.0,
        "天",
        "志愿服务统计周期",
        "volunteer window",
        "志愿服务时长按截至统计日的最近若干天计算",
        "Volunteer hours count the days up to the reporting date",
    ),
}
