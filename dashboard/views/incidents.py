"""The incident panel's view model (派单交办): one incident's detail for an actor, and acting on it.

The same state machine, view and write path as the HTTP API: :func:`pipelines.incidents.view.incident_view`
and :func:`pipelines.incidents.intake.act` (which writes under the :class:`~pipelines.store.Database`'s lock).
The API answers in English for programs; the panel says the same refusals in the page's language.
"""

from __future__ import annotations

from dashboard.i18n import status_label, t
from pipelines.auth import Actor, permission_allowed
from pipelines.incidents import governance, intake
from pipelines.incidents.machine import IllegalTransition
from pipelines.incidents.repository import incident_record
from pipelines.incidents.view import incident_view
from pipelines.store.categories import category_deadlines

DISPATCH_NOTE = "派单至"
"""How a dispatch's history note names its assignee when no note was typed (the generator writes the same)."""


def detail(data, incident_id: str, role: str | None) -> dict | None:
    """The incident as the API shows it to ``role`` (history, suggestions, allowed actions), or None."""
    with data.cursor() as cur:
        record = incident_record(cur, incident_id)
        if record is None:
            return None
        view = incident_view(cur, record, role, data.clock())
        view["departments"] = sorted(set(category_deadlines(cur)["department"].dropna()))  # who may be whistled
        return view


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


ACTION_PERMISSIONS = {"escalate": "incident.escalate", "report": "whistle.report"}
"""The permission of each panel action that is not a step of the loop (those need ``incident.act``)."""


def may_act(role: str | None, action: str = "act") -> bool:
    """May a dashboard user with ``role`` take ``action`` (a loop step, ``escalate`` 吹哨 or ``report`` 报到)?
    The one permission check of the panel, on the API's permission table."""
    return permission_allowed(Actor("user", role=role), ACTION_PERMISSIONS.get(action, "incident.act"))


def escalate(data, incident_id: str, fields: dict, user: str | None, lang: str = "zh") -> str | None:
    """吹哨 from the panel's fields (level, departments, reason) through the API's write path; None when done."""
    body = {
        "level": fields.get("level") or "street",
        "departments": list(fields.get("departments") or []),
        "reason": (fields.get("reason") or "").strip() or None,
    }
    if not body["departments"]:
        return t("err_whistle_departments", lang)
    if not body["reason"]:
        return t("err_whistle_reason", lang)
    return _governance(governance.escalate, data, incident_id, body, user, lang)


def report(data, whistle_id: str, fields: dict, user: str | None, lang: str = "zh") -> str | None:
    """A department's 报到 on a whistle (the note as its report); None when done."""
    body = {"note": (fields.get("note") or "").strip() or None}
    return _governance(governance.whistle_step, data, whistle_id, "report", body, user, lang)


def _governance(step, data, key: str, *args) -> str | None:
    *body, user, lang = args
    try:
        step(data.db, key, *body, data.clock(), user)
    except intake.NotFound as exc:
        return t("err_request", lang).format(reason=exc)
    except intake.RequestError as exc:
        return t("err_request", lang).format(reason=exc)
    return None


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
