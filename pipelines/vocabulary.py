"""The project's vocabulary, spelled once: hierarchy levels, incident statuses, loop actions, affair classes.

Every other module imports these names instead of writing the strings again, and the SQL fragments
that filter on them (``OPEN_SQL``, ``DONE_SQL``) are built here from the same tuples.  The
transitions between statuses are not vocabulary but behaviour: they live in
:mod:`pipelines.incidents.machine`.
"""

from __future__ import annotations

# --- the administrative hierarchy (区 → 街道 → 社区 → 网格) ----------------------------------------

LEVELS = ("city", "district", "street", "community", "grid")
"""From the top down; ``city`` is every district together and has no table of its own."""
LEVEL_TABLES: dict[str, tuple[str, str]] = {
    "district": ("districts", "district_code"),
    "street": ("streets", "street_code"),
    "community": ("communities", "community_code"),
    "grid": ("grids", "grid_code"),
}
"""level: (table, code column)."""
GRID_CODE_COLUMNS = ("grid_code", "community_code", "street_code", "district_code")
"""The hierarchy codes every located row carries, grid first."""

# --- the closed loop (闭环) --------------------------------------------------------------------

STATUSES = ("reported", "accepted", "dispatched", "in_progress", "resolved", "verified", "evaluated")
"""In order: 上报 → 受理 → 派单 → 处置中 → 办结 → 核查结案 → 回访评价 (GB/T 30428's 核查结案 is optional:
回访评价 may follow 办结 directly)."""
OPEN_STATUSES = STATUSES[:4]
DONE_STATUSES = STATUSES[4:]

STATUS_LABELS_ZH = {
    "reported": "上报",
    "accepted": "受理",
    "dispatched": "派单",
    "in_progress": "处置中",
    "resolved": "办结",
    "verified": "核查结案",
    "evaluated": "回访评价",
}
STATUS_LABELS_EN = {
    "reported": "Reported",
    "accepted": "Accepted",
    "dispatched": "Dispatched",
    "in_progress": "In progress",
    "resolved": "Resolved",
    "verified": "Verified",
    "evaluated": "Evaluated",
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
"""What files write in the status column (Chinese labels, hotline wording, English) → our status."""

ACTIONS = ("accept", "dispatch", "start", "resolve", "verify", "rework", "evaluate", "reopen")
"""What a dispatcher does to an incident; which action is allowed from which status is the machine's table."""
ACTION_LABELS_ZH = {
    "accept": "受理",
    "dispatch": "派单",
    "start": "开始处置",
    "resolve": "办结",
    "verify": "核查通过",
    "rework": "核查不通过",
    "evaluate": "回访评价",
    "reopen": "重新办理",
}
ACTION_LABELS_EN = {
    "accept": "Accept",
    "dispatch": "Dispatch",
    "start": "Start",
    "resolve": "Resolve",
    "verify": "Verified",
    "rework": "Verification failed",
    "evaluate": "Record satisfaction",
    "reopen": "Reopen",
}
ASSIGNEE_TYPES = ("department", "worker", "mediator")
"""Who a dispatch goes to: a department (责任部门), one grid worker, or a mediator (调解员, named freely)."""
DISPATCH_LEVELS = ("street", "district")
"""分级置办: a 公事 is handled at the street or passed up to the district; the dispatch records which."""

MAX_DESCRIPTION = 4000
"""Longest description (characters) the API and a file load accept."""
MAX_SHORT = 200
"""Longest short text field (address, names, codes …) the API and a file load accept."""

AFFAIR_CLASSES = ("公事", "家事", "共事")
"""Public affairs, household affairs, shared affairs: who is expected to act (三事分流)."""
DEFAULT_AFFAIR_CLASS = "公事"
AFFAIR_ROUTES = {
    "公事": ("department", "部门办理（分级置办：街道或区）"),
    "家事": ("worker", "网格员、调解员引导调解，居民确认后办结"),
    "共事": ("deliberation", "议事协商：居民、物业、业委会、党员共议，议定事项跟踪办结"),
}
"""affair class: (who handles it by default, how): the routing each category's class stands for (三事分流)."""

WHISTLE_LEVELS = ("street", "community")
"""Who blows the whistle (吹哨): a street or a community."""
DEFAULT_REPORT_H = 2
"""Hours a whistled department has to report (报到) unless the whistle says otherwise."""
DELIBERATION_ROLES = ("居民", "物业", "业委会", "党员", "社区", "共建单位")
"""Who takes part in a 议事协商 (participants are counted by these roles)."""


def sql_in(column: str, values: tuple[str, ...]) -> str:
    """``column IN ('a', 'b')`` for values of this module (constants, never user input)."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


OPEN_SQL = sql_in("status", OPEN_STATUSES)
"""Rows still in the loop (上报 … 处置中)."""
OPEN_LIVE_SQL = f"{OPEN_SQL} AND NOT coalesce(archived, false)"
"""Open rows of ``incidents`` that are not archived (a historical import's old open items, which have no
deadline): what ``open_incidents`` holds and the open and overdue figures count."""
DONE_SQL = sql_in("status", DONE_STATUSES)
"""Rows the loop has closed (办结, 回访评价)."""
