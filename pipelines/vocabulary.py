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

STATUSES = ("reported", "accepted", "dispatched", "in_progress", "resolved", "evaluated")
"""In order: 上报 → 受理 → 派单 → 处置中 → 办结 → 回访评价."""
OPEN_STATUSES = STATUSES[:4]
DONE_STATUSES = STATUSES[4:]

STATUS_LABELS_ZH = {
    "reported": "上报",
    "accepted": "受理",
    "dispatched": "派单",
    "in_progress": "处置中",
    "resolved": "办结",
    "evaluated": "回访评价",
}
STATUS_LABELS_EN = {
    "reported": "Reported",
    "accepted": "Accepted",
    "dispatched": "Dispatched",
    "in_progress": "In progress",
    "resolved": "Resolved",
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

ACTIONS = ("accept", "dispatch", "start", "resolve", "evaluate", "reopen")
"""What a dispatcher does to an incident; which action is allowed from which status is the machine's table."""
ACTION_LABELS_ZH = {
    "accept": "受理",
    "dispatch": "派单",
    "start": "开始处置",
    "resolve": "办结",
    "evaluate": "回访评价",
    "reopen": "重新办理",
}
ACTION_LABELS_EN = {
    "accept": "Accept",
    "dispatch": "Dispatch",
    "start": "Start",
    "resolve": "Resolve",
    "evaluate": "Record satisfaction",
    "reopen": "Reopen",
}
ASSIGNEE_TYPES = ("department", "worker")
"""Who a dispatch goes to: a department (责任部门) or one grid worker."""

MAX_DESCRIPTION = 4000
"""Longest description (characters) the API and a file load accept."""
MAX_SHORT = 200
"""Longest short text field (address, names, codes …) the API and a file load accept."""

AFFAIR_CLASSES = ("公事", "家事", "共事")
"""Public affairs, household affairs, shared affairs: who is expected to act (三事分流)."""
DEFAULT_AFFAIR_CLASS = "公事"


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
