"""The closed loop (闭环) as a state machine: one table of (status, action) → next status.

上报 → 受理 → 派单 → 处置中 → 办结 → (核查) → 回访评价, with re-dispatch, reopening, and the optional
核查 (GB/T 30428 核查结案): a grid worker or supervisor checks the work; passing closes it (核查结案),
failing sends it back to 处置中 (返工).  Everything that moves
an incident reads :data:`TRANSITIONS`: the JSON API and the dashboard panel (through
:func:`step`), the OpenAPI document, both simulators (:data:`FORWARD`) and the SQL that advances
incidents in bulk (:func:`next_status_sql`).  Anything the table does not hold is an
:class:`IllegalTransition` that names the current status and the actions it allows.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.errors import GridtwinError
from pipelines.vocabulary import ACTIONS, OPEN_STATUSES, STATUS_LABELS_ZH

TRANSITIONS: dict[tuple[str, str], str] = {
    ("reported", "accept"): "accepted",
    ("accepted", "dispatch"): "dispatched",
    ("dispatched", "dispatch"): "dispatched",  # re-dispatch to another owner
    ("dispatched", "start"): "in_progress",
    ("in_progress", "resolve"): "resolved",
    ("resolved", "verify"): "verified",  # 核查通过: 核查结案
    ("resolved", "rework"): "in_progress",  # 核查不通过: back to 处置 (返工)
    ("resolved", "evaluate"): "evaluated",  # 核查 is optional
    ("resolved", "reopen"): "accepted",  # the resident is not satisfied: back to the queue
    ("verified", "evaluate"): "evaluated",
    ("verified", "reopen"): "accepted",
    ("evaluated", "reopen"): "accepted",
}
"""(status, action): the status the action leads to.  A pair not listed is not allowed."""

FORWARD: dict[str, str] = {
    "reported": "accept",
    "accepted": "dispatch",
    "dispatched": "start",
    "in_progress": "resolve",
    "resolved": "verify",
    "verified": "evaluate",
}
"""The action that moves each status one step forward along the loop (what the simulators do)."""
REWORK_ACTIONS = ("rework", "reopen")
"""Actions that send closed work back (返工): the 返工率 counts them."""


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
    """The actions the table allows from ``status``, in the order of :data:`~pipelines.vocabulary.ACTIONS`."""
    return [action for action in ACTIONS if (status, action) in TRANSITIONS]


def sources(action: str) -> list[str]:
    """The statuses ``action`` may start from."""
    return [status for (status, act), _ in TRANSITIONS.items() if act == action]


def target(action: str) -> str:
    """The status ``action`` leads to (the same from every status it is allowed in)."""
    return next(to for (_, act), to in TRANSITIONS.items() if act == action)


def step(incident_id: str, status: str, action: str) -> Step:
    """The transition ``action`` makes from ``status``, or :class:`IllegalTransition`."""
    if action not in ACTIONS:
        raise GridtwinError(f"unknown action {action!r}: use one of {', '.join(ACTIONS)}")
    to_status = TRANSITIONS.get((status, action))
    if to_status is None:
        raise IllegalTransition(incident_id, status, action)
    return Step(action, status, to_status)


def next_status(status: str) -> str | None:
    """Where :data:`FORWARD` takes ``status`` (None when the loop is closed)."""
    action = FORWARD.get(status)
    return None if action is None else TRANSITIONS[status, action]


def next_status_sql(column: str = "status") -> str:
    """SQL CASE giving the next status of an open incident along :data:`FORWARD` (NULL otherwise)."""
    cases = " ".join(f"WHEN '{status}' THEN '{next_status(status)}'" for status in OPEN_STATUSES)
    return f"CASE {column} {cases} END"
