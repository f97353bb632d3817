"""The closed loop (闭环): 上报 → 受理 → 派单 → 处置 → 办结 → 回访评价, as a state machine.

Actions move an incident from one status to the next; anything else is an
:class:`IllegalTransition` that names the current status and the actions it allows.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.domain import STATUS_LABELS_ZH
from pipelines.errors import GridtwinError

# action: (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "accept": (("reported",), "accepted"),
    "dispatch": (("accepted", "dispatched"), "dispatched"),  # 派单, or re-dispatch to another owner
    "start": (("dispatched",), "in_progress"),
    "resolve": (("in_progress",), "resolved"),
    "evaluate": (("resolved",), "evaluated"),
    "reopen": (("resolved", "evaluated"), "accepted"),  # the resident is not satisfied: back to the queue
}
ACTION_LABELS_ZH = {
    "accept": "受理",
    "dispatch": "派单",
    "start": "开始处置",
    "resolve": "办结",
    "evaluate": "回访评价",
    "reopen": "重新办理",
}
ASSIGNEE_TYPES = ("department", "worker")


class IllegalTransition(GridtwinError):  # noqa: N818 - reads as the domain term
    def __init__(self, incident_id: str, status: str, action: str):
        self.status = status
        self.allowed = allowed_actions(status)
        allowed = ", ".join(self.allowed) or "none (the loop is closed)"
        super().__init__(
            f"incident {incident_id} is {status} ({STATUS_LABELS_ZH.get(status, status)}): "
            f"{action} is not allowed now; allowed actions: {allowed}"
        )


@dataclass(frozen=True)
class Step:
    action: str
    from_status: str
    to_status: str


def allowed_actions(status: str) -> list[str]:
    return [action for action, (sources, _) in TRANSITIONS.items() if status in sources]


def step(incident_id: str, status: str, action: str) -> Step:
    """The transition ``action`` makes from ``status``, or :class:`IllegalTransition`."""
    if action not in TRANSITIONS:
        raise GridtwinError(f"unknown action {action!r}: use one of {', '.join(TRANSITIONS)}")
    sources, target = TRANSITIONS[action]
    if status not in sources:
        raise IllegalTransition(incident_id, status, action)
    return Step(action, status, target)
