"""Domain vocabulary shared by the loaders and the generator."""

from __future__ import annotations

STATUSES = ("reported", "accepted", "dispatched", "in_progress", "resolved", "evaluated")
"""The closed loop, in order: 上报 → 受理 → 派单 → 处置中 → 办结 → 回访评价."""

OPEN_STATUSES = ("reported", "accepted", "dispatched", "in_progress")

STATUS_LABELS_ZH = {
    "reported": "上报",
    "accepted": "受理",
    "dispatched": "派单",
    "in_progress": "处置中",
    "resolved": "办结",
    "evaluated": "回访评价",
}

STATUS_ALIASES = {
    **{label: code for code, label in STATUS_LABELS_ZH.items()},
    **{code: code for code in STATUSES},
    "待受理": "reported",
    "已上报": "reported",
    "新建": "reported",
    "open": "reported",
    "new": "reported",
    "已受理": "accepted",
    "acknowledged": "accepted",
    "已派单": "dispatched",
    "已交办": "dispatched",
    "交办": "dispatched",
    "assigned": "dispatched",
    "办理中": "in_progress",
    "处理中": "in_progress",
    "in progress": "in_progress",
    "已办结": "resolved",
    "已完成": "resolved",
    "closed": "resolved",
    "完成": "resolved",
    "已回访": "evaluated",
    "已评价": "evaluated",
}

# category: (affair class 公事/家事/共事, deadline in hours 时限, department 责任部门)
CATEGORIES: dict[str, tuple[str, int, str]] = {
    "邻里纠纷": ("家事", 72, "司法所"),
    "噪声扰民": ("共事", 24, "城管执法"),
    "车辆停放": ("共事", 24, "交警大队"),
    "垃圾分类": ("共事", 48, "环卫所"),
    "物业服务": ("共事", 72, "房管所"),
    "安全隐患": ("公事", 12, "应急管理"),
    "市容环境": ("公事", 48, "城管执法"),
    "设施损坏": ("公事", 72, "市政养护"),
    "占道经营": ("公事", 24, "城管执法"),
    "养老服务": ("家事", 120, "民政科"),
}
DEFAULT_DEADLINE_H = 72
DEFAULT_AFFAIR_CLASS = "公事"
DEFAULT_DEPARTMENT = "街道综合指挥室"

SOURCES = ("网格员巡查", "12345热线", "居民上报", "物联感知")
PRIORITIES = ("一般", "紧急", "特急")

WORKER_ROLES = ("网格长", "专职网格员", "兼职网格员")

FACILITY_TYPES = (
    "党群服务中心",
    "社区卫生服务站",
    "养老服务站",
    "幼儿园",
    "小学",
    "菜市场",
    "文体活动站",
    "便利店",
)

ROAD_CLASSES = ("主干路", "次干路", "支路", "街巷")

# GB 50180-2018 life circles (生活圈): tier in minutes → walking distance in metres.
LIFE_CIRCLES_M: dict[int, float] = {5: 300.0, 10: 500.0, 15: 1000.0}
LIFE_CIRCLE_LABELS = {5: "5分钟生活圈", 10: "10分钟生活圈", 15: "15分钟生活圈"}
WALK_SPEED_M_PER_MIN = 60.0
"""Default walking speed (3.6 km/h, an unhurried pace that suits elderly residents)."""
ACCESS_CUTOFF_M = 2000.0
"""Distances are searched up to this far (about half an hour's walk); beyond it a building counts as unreached."""

# facility type: (life-circle tier in minutes, required for a complete life circle)
SERVICE_STANDARDS: dict[str, tuple[int, bool]] = {
    "幼儿园": (5, True),
    "社区卫生服务站": (5, True),
    "养老服务站": (5, True),
    "文体活动站": (5, True),
    "便利店": (5, True),
    "小学": (10, True),
    "菜市场": (15, True),
    "党群服务中心": (15, True),
}
DEFAULT_SERVICE_TIER = (15, True)
"""Facility types a file brings that the table does not know yet."""
