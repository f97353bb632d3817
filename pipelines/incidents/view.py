"""An incident as a person sees it: detail, history, the actions their role allows, labels in zh and en.

The JSON API answers with :func:`incident_view`, and the dashboard's incident panel draws the same
dict, so both show the same facts, the same masking and the same allowed actions.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines import auth
from pipelines.incidents import machine, repository
from pipelines.masking import mask_name, mask_phone
from pipelines.party.contacts import grid_party_view
from pipelines.store.areas import grid_workers_of
from pipelines.store.governance import incident_whistles
from pipelines.vocabulary import (
    ACTION_LABELS_EN,
    ACTION_LABELS_ZH,
    AFFAIR_ROUTES,
    DEFAULT_AFFAIR_CLASS,
    OPEN_STATUSES,
    STATUS_LABELS_EN,
    STATUS_LABELS_ZH,
)


def status_label(status: str, lang: str = "zh") -> str:
    """A status as a person reads it (an unknown status stays as it is)."""
    return (STATUS_LABELS_EN if lang == "en" else STATUS_LABELS_ZH).get(status, status)


def action_label(action: str, lang: str = "zh") -> str:
    return (ACTION_LABELS_EN if lang == "en" else ACTION_LABELS_ZH).get(action, action)


def actions_for(status: str, role: str | None) -> list[str]:
    """What this role may do to an incident in ``status``: the machine's actions for dispatchers, else none."""
    return machine.allowed_actions(status) if auth.allows(role, "dispatcher") else []


def clean(value):
    """JSON-safe scalars (NaN/NaT → null, numpy → Python)."""
    if value is None or (not isinstance(value, str | list | dict) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return pd.Timestamp(value).isoformat()
    return value.item() if hasattr(value, "item") else value


def incident_view(cur, record: dict, role: str | None, now: dt.datetime) -> dict:
    """An incident with its history, the caller's allowed actions and dispatch suggestions.

    ``record`` is :func:`~pipelines.incidents.repository.incident_record`'s row.  Below the dispatcher
    role the reporter's name and phone are masked.
    """
    view = {k: clean(v) for k, v in record.items()}
    if not auth.allows(role, "dispatcher"):
        view["reporter_name"] = mask_name(record["reporter_name"]) if view["reporter_name"] else None
        view["reporter_phone"] = mask_phone(record["reporter_phone"]) if view["reporter_phone"] else None
    due = record["due_at"]
    view["overdue"] = bool(
        record["status"] in OPEN_STATUSES and due is not None and not pd.isna(due) and pd.Timestamp(due) < now
    )
    history = repository.incident_history(cur, record["incident_id"])
    view["history"] = [{k: clean(v) for k, v in row.items()} for row in history.to_dict("records")]
    view["allowed_actions"] = actions_for(record["status"], role)
    view["whistles"] = incident_whistles(cur, record["incident_id"])  # 吹哨报到: each department's clock
    handler, how = AFFAIR_ROUTES.get(view["affair_class"], AFFAIR_ROUTES[DEFAULT_AFFAIR_CLASS])
    view["route"] = {"affair_class": view["affair_class"], "handler": handler, "how": how}  # 三事分流
    workers = grid_workers_of(cur, record["grid_code"])
    view["suggestions"] = {
        "department": record["department"],
        "grid_workers": [
            {"worker_id": w.worker_id, "name": w.name, "role": w.role, "phone": mask_phone(w.phone)}
            for w in workers.itertuples()
        ],
        # 党建引领: the grid's branch, members on duty, service team and 楼栋长 (names masked for viewers)
        "party": grid_party_view(cur, record["grid_code"], auth.allows(role, "dispatcher")),
    }
    return view
