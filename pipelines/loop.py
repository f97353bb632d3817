"""Intake of new requests and actions along the closed loop, validated, one transaction each.

Both take plain dicts (what an HTTP body parses to) and raise :class:`RequestError` listing every
problem, so the API can answer 400 with one clear message and nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from contextlib import nullcontext

import numpy as np

from pipelines import store, workflow
from pipelines.area import Area
from pipelines.domain import DEFAULT_AFFAIR_CLASS, DEFAULT_DEADLINE_H
from pipelines.errors import GridtwinError

MAX_DESCRIPTION = 4000
MAX_SHORT = 200
SOURCE = "Open311接口"


class RequestError(GridtwinError, ValueError):
    """A bad request: the message lists every problem; nothing was stored."""


class NotFound(GridtwinError, LookupError):  # noqa: N818 - reads as the HTTP status it maps to
    pass


def _text(payload: dict, key: str, limit: int, problems: list[str], required: bool = False) -> str | None:
    value = payload.get(key)
    if value is None or value == "":
        if required:
            problems.append(f"{key} is required")
        return None
    if not isinstance(value, str):
        problems.append(f"{key} must be text, got {type(value).__name__}")
        return None
    if len(value) > limit:
        problems.append(f"{key} is {len(value)} characters long; at most {limit} are allowed")
        return None
    return value


def _number(payload: dict, key: str, low: float, high: float, problems: list[str]) -> float | None:
    value = payload.get(key)
    if value is None or value == "":
        problems.append(f"{key} is required (WGS84 decimal degrees)")
        return None
    if isinstance(value, bool):
        problems.append(f"{key} must be a number, got {value!r}")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        problems.append(f"{key} must be a number, got {value!r}")
        return None
    if not np.isfinite(number) or not low <= number <= high:
        problems.append(f"{key} must be between {low:g} and {high:g}, got {value!r}")
        return None
    return number


def submit(
    con,
    area: Area | None,
    payload: dict,
    now: dt.datetime,
    actor: str,
    lock: threading.Lock | None = None,
) -> tuple[str, bool]:
    """Validate and store one new request; returns (incident id, created).

    A client token (``token``) makes retries idempotent: the same token returns the first id and
    ``created`` False.
    """
    problems: list[str] = []
    with con.cursor() as cur:
        categories = store.category_deadlines(cur).set_index("category")
    service = _text(payload, "service_code", MAX_SHORT, problems, required=True)
    if service is not None and service not in categories.index:
        problems.append(f"service_code {service!r} is unknown: GET /open311/v2/services.json lists the services")
    lat = _number(payload, "lat", -90, 90, problems)
    lon = _number(payload, "long", -180, 180, problems)
    description = _text(payload, "description", MAX_DESCRIPTION, problems)
    address = _text(payload, "address_string", MAX_SHORT, problems)
    names = [_text(payload, k, MAX_SHORT, problems) for k in ("first_name", "last_name")]
    phone = _text(payload, "phone", 40, problems)
    token = _text(payload, "token", 100, problems)
    if area is None:
        raise RequestError("no grids are loaded: this server cannot place requests yet")
    cells = index = None
    if lat is not None and lon is not None:
        cells, index = area.locate(np.array([lon]), np.array([lat]))
        if index[0] < 0:
            problems.append(f"lat {lat}, long {lon} is outside the loaded area: requests must fall inside a grid")
    if problems:
        raise RequestError("; ".join(problems))
    with lock or nullcontext(), con.cursor() as cur, store.transaction(cur):
        if token and (known := store.token_incident(cur, token)):
            return known, False
        category = categories.loc[service]
        incident_id = f"OP{now:%Y%m%d%H%M%S}{secrets.token_hex(3).upper()}"
        reporter = "".join(n for n in (names[1], names[0]) if n) or None
        grid = area.grids.iloc[int(index[0])]
        row = {
            "incident_id": incident_id,
            "category": service,
            "affair_class": category["affair_class"] or DEFAULT_AFFAIR_CLASS,
            "source": SOURCE,
            "priority": "一般",
            "status": "reported",
            "reported_at": now,
            "due_at": now + dt.timedelta(hours=int(category["deadline_h"] or DEFAULT_DEADLINE_H)),
            "description": description,
            "address": address,
            "reporter_name": reporter,
            "reporter_phone": phone,
            "lon": lon,
            "lat": lat,
            "h3_cell": int(cells[0]),
            **{c: grid[c] for c in store.GRID_CODE_COLUMNS},
        }
        store.insert_new_incident(cur, row, actor, "Open311 上报")
        if token:
            store.save_token(cur, token, incident_id)
        store.bump_data_version(cur)
    return incident_id, True


def act(
    con,
    incident_id: str,
    action: str,
    payload: dict,
    now: dt.datetime,
    actor: str,
    lock: threading.Lock | None = None,
) -> dict:
    """Apply one action of the loop; returns the incident afterwards.

    Raises :class:`NotFound`, :class:`RequestError` (bad payload) or
    :class:`workflow.IllegalTransition` (wrong state: HTTP 409).
    """
    if action not in workflow.TRANSITIONS:
        raise NotFound(f"unknown action {action!r}: use one of {', '.join(workflow.TRANSITIONS)}")
    problems: list[str] = []
    note = _text(payload, "note", MAX_DESCRIPTION, problems, required=action == "resolve")
    satisfaction = assignee = None
    if action == "evaluate":
        value = payload.get("satisfaction")
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            problems.append(f"satisfaction must be a whole number from 1 to 5, got {value!r}")
        else:
            satisfaction = value
    if action == "dispatch":
        kind = payload.get("assignee_type")
        target = _text(payload, "assignee", MAX_SHORT, problems, required=True)
        if kind not in workflow.ASSIGNEE_TYPES:
            problems.append(f"assignee_type must be one of {', '.join(workflow.ASSIGNEE_TYPES)}, got {kind!r}")
        elif target is not None:
            assignee = (kind, target)
    with lock or nullcontext(), con.cursor() as cur:
        record = store.incident_record(cur, incident_id)
        if record is None:
            raise NotFound(f"incident {incident_id} does not exist")
        step = workflow.step(incident_id, record["status"], action)
        if assignee and assignee[0] == "worker" and not store.worker_exists(cur, assignee[1]):
            problems.append(f"grid worker {assignee[1]!r} does not exist")
        if problems:
            raise RequestError("; ".join(problems))
        if action == "dispatch" and not note:
            note = f"派单至{assignee[1]}"
        with store.transaction(cur):
            store.apply_transition(
                cur, incident_id, step.from_status, step.to_status, now, actor, note, satisfaction, assignee
            )
        return store.incident_record(cur, incident_id)
