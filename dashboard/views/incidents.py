"""The incident panel's view model (派单交办): one incident's detail for an actor, and acting on it.

The same state machine, view and write path as the HTTP API: :func:`pipelines.incidents.view.incident_view`
and :func:`pipelines.incidents.intake.act` (which writes under the :class:`~pipelines.store.Database`'s lock).
The API answers in English for programs; the panel says the same refusals in the page's language.
"""

from __future__ import annotations

from dashboard.i18n import status_label, t
from pipelines.auth import Actor, permission_allowed
from pipelines.incidents import intake
from pipelines.incidents.machine import IllegalTransition
from pipelines.incidents.repository import incident_record
from pipelines.incidents.view import incident_view

DISPATCH_NOTE = "派单至"
"""How a dispatch's history note names its assignee when no note was typed (the generator writes the same)."""


def detail(data, incident_id: str, role: str | None) -> dict | None:
    """The incident as the API shows it to ``role`` (history, suggestions, allowed actions), or None."""
    with data.cursor() as cur:
        record = incident_record(cur, incident_id)
        return None if record is None else incident_view(cur, record, role, data.clock())


def current_assignee(view: dict) -> str | None:
    """Who handles the incident now (承办): the stored assignment, else the newest dispatch in the history.

    A grid worker is named with the role and name the panel's suggestions show (masked for viewers).
    """
    if view.get("assignee"):
        if view.get("assignee_type") == "worker":
            for w in view["suggestions"]["grid_workers"]:
                if str(w["worker_id"]) == str(view["assignee"]):
                    return f"{w['role']} {w['name']}"
        return str(view["assignee"])
    for step in reversed(view["history"]):
        if step["to_status"] == "dispatched":
            note = step["note"] or ""
            return note[len(DISPATCH_NOTE) :] if note.startswith(DISPATCH_NOTE) else None
    return None


def may_act(role: str | None) -> bool:
    """May a dashboard user with ``role`` move incidents along the loop (the one permission check)?"""
    return permission_allowed(Actor("user", role=role), "incident.act")


def payload(action: str, fields: dict) -> dict:
    """The request body of an action from the panel's fields (assignee ``kind:who``, satisfaction, note)."""
    body = {"note": (fields.get("note") or "").strip() or None}
    if action == "dispatch" and fields.get("assignee"):
        kind, _, who = fields["assignee"].partition(":")
        body.update(assignee_type=kind, assignee=who)
    if action == "evaluate":
        body["satisfaction"] = fields.get("satisfaction")
    return body


def act(data, incident_id: str, action: str, fields: dict, user: str | None, lang: str = "zh") -> str | None:
    """Apply ``action``; None when done, else the one-line reason it was refused, in ``lang``."""
    body = payload(action, fields)
    if action == "resolve" and not body["note"]:
        return t("err_note_required", lang)
    try:
        intake.act(data.db, incident_id, action, body, data.clock(), user)
    except IllegalTransition as exc:
        return t("err_illegal", lang).format(status=status_label(exc.status, lang), action=t(f"action_{action}", lang))
    except intake.NotFound:
        return t("err_not_found", lang).format(id=incident_id)
    except intake.RequestError as exc:
        return t("err_request", lang).format(reason=exc)
    return None
