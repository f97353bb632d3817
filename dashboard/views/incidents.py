"""The incident panel's view model (派单交办): one incident's detail for an actor, and acting on it.

The same state machine, view and write path as the HTTP API: :func:`pipelines.incidents.view.incident_view`
and :func:`pipelines.incidents.intake.act` (which writes under the :class:`~pipelines.store.Database`'s lock).
"""

from __future__ import annotations

from pipelines.auth import Actor, permission_allowed
from pipelines.incidents import intake
from pipelines.incidents.machine import IllegalTransition
from pipelines.incidents.repository import incident_record
from pipelines.incidents.view import incident_view


def detail(data, incident_id: str, role: str | None) -> dict | None:
    """The incident as the API shows it to ``role`` (history, suggestions, allowed actions), or None."""
    with data.cursor() as cur:
        record = incident_record(cur, incident_id)
        return None if record is None else incident_view(cur, record, role, data.clock())


def may_act(role: str | None) -> bool:
    """May a dashboard user with ``role`` move incidents along the loop (the one permission check)?"""
    return permission_allowed(Actor("user", role=role), "incident.act")


def payload(action: str, fields: dict) -> dict:
    """The request body of an action from the panel's fields (assignee ``kind:who``, satisfaction, note)."""
    body = {"note": fields.get("note") or None}
    if action == "dispatch" and fields.get("assignee"):
        kind, _, who = fields["assignee"].partition(":")
        body.update(assignee_type=kind, assignee=who)
    if action == "evaluate":
        body["satisfaction"] = fields.get("satisfaction")
    return body


def act(data, incident_id: str, action: str, fields: dict, user: str | None) -> str | None:
    """Apply ``action``; None when done, else the one-line reason it was refused."""
    try:
        intake.act(data.db, incident_id, action, payload(action, fields), data.clock(), user)
    except (intake.RequestError, intake.NotFound, IllegalTransition) as exc:
        return str(exc)
    return None
