"""The incident panel's view model (派单交办): one incident's detail for an actor, and acting on it.

The same state machine and view as the HTTP API: :func:`dashboard.api.incident_view` and
:func:`pipelines.loop.act`.
"""

from __future__ import annotations

from dashboard.api import incident_view
from pipelines import auth, loop, store, workflow


def detail(data, incident_id: str, role: str | None) -> dict | None:
    """The incident as the API shows it to ``role`` (history, suggestions, allowed actions), or None."""
    with data.cursor() as cur:
        record = store.incident_record(cur, incident_id)
        return None if record is None else incident_view(cur, record, role, data.clock())


def may_act(role: str | None) -> bool:
    return auth.allows(role, "dispatcher")


def payload(action: str, fields: dict) -> dict:
    """The request body of an action from the panel's fields (assignee ``kind:who``, satisfaction, note)."""
    body = {"note": fields.get("note") or None}
    if action == "dispatch" and fields.get("assignee"):
        kind, _, who = fields["assignee"].partition(":")
        body.update(assignee_type=kind, assignee=who)
    if action == "evaluate":
        body["satisfaction"] = fields.get("satisfaction")
    return body


def act(data, lock, incident_id: str, action: str, fields: dict, user: str | None) -> str | None:
    """Apply ``action``; None when done, else the one-line reason it was refused."""
    try:
        loop.act(data.con, incident_id, action, payload(action, fields), data.clock(), user, lock)
    except (loop.RequestError, loop.NotFound, workflow.IllegalTransition) as exc:
        return str(exc)
    return None
