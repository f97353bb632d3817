"""Intake: HTTP bodies (Open311 form fields or JSON) → validated requests → group-committed writes.

:func:`submit` takes a new report, :func:`act` one action along the loop.  Both take plain dicts
(what a body parses to), check everything first and raise :class:`RequestError` listing every
problem, so the API answers 400 with one clear message and nothing is stored.  The writes go
through :class:`~pipelines.store.Database`, which serialises them with its lock; new reports arriving
together share one transaction (group commit), and each caller returns after the commit holding its report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import weakref
from dataclasses import asdict, dataclass

import numpy as np

from pipelines.area import Area
from pipelines.domain import DEFAULT_DEADLINE_H
from pipelines.errors import GridtwinError
from pipelines.incidents import machine, repository
from pipelines.store import Database, transaction
from pipelines.store.areas import worker_exists
from pipelines.store.categories import category_rules
from pipelines.store.governance import record_verification
from pipelines.store.meta import bump_data_version
from pipelines.vocabulary import (
    ACTIONS,
    ASSIGNEE_TYPES,
    DEFAULT_AFFAIR_CLASS,
    DISPATCH_LEVELS,
    MAX_DESCRIPTION,
    MAX_SHORT,
)

SOURCE = "Open311接口"


class RequestError(GridtwinError, ValueError):
    """A bad request: the message lists every problem; nothing was stored."""


class TokenConflictError(RequestError):
    """The caller reused an idempotency token with a different body (HTTP 422)."""


class NotFound(GridtwinError, LookupError):  # noqa: N818 - reads as the HTTP status it maps to
    pass


def text(payload: dict, key: str, limit: int, problems: list[str], required: bool = False) -> str | None:
    """``payload[key]`` as text of at most ``limit`` characters (None when absent); problems are appended."""
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


@dataclass(frozen=True)
class NewRequest:
    """A validated Open311 POST, placed in a grid."""

    service: str
    lon: float
    lat: float
    h3_cell: int
    grid_index: int
    description: str | None
    address: str | None
    reporter: str | None
    phone: str | None
    token: str | None

    def digest(self) -> str:
        """SHA-256 of what was asked (everything but the token): a retry must send the same."""
        fields = {k: v for k, v in asdict(self).items() if k != "token"}
        return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def parse_new_request(payload: dict, services, area: Area | None) -> NewRequest:
    """Check an Open311 POST body against the known ``services`` and the loaded ``area``."""
    problems: list[str] = []
    service = text(payload, "service_code", MAX_SHORT, problems, required=True)
    if service is not None and service not in services:
        problems.append(f"service_code {service!r} is unknown: GET /open311/v2/services.json lists the services")
    lat = _number(payload, "lat", -90, 90, problems)
    lon = _number(payload, "long", -180, 180, problems)
    description = text(payload, "description", MAX_DESCRIPTION, problems)
    address = text(payload, "address_string", MAX_SHORT, problems)
    first, last = (text(payload, k, MAX_SHORT, problems) for k in ("first_name", "last_name"))
    phone = text(payload, "phone", 40, problems)
    token = text(payload, "token", 100, problems)
    if area is None:
        raise RequestError("no grids are loaded: this server cannot place requests yet")
    cells = index = None
    if lat is not None and lon is not None:
        cells, index = area.locate(np.array([lon]), np.array([lat]))
        if index[0] < 0:
            problems.append(f"lat {lat}, long {lon} is outside the loaded area: requests must fall inside a grid")
    if problems:
        raise RequestError("; ".join(problems))
    reporter = "".join(n for n in (last, first) if n) or None
    return NewRequest(service, lon, lat, int(cells[0]), int(index[0]), description, address, reporter, phone, token)


def submit(
    db: Database, area: Area | None, payload: dict, now: dt.datetime, actor: str, scope: str | None = None
) -> tuple[str, bool]:
    """Validate and store one new request; returns (incident id, created) once it is committed.

    A client token (``token``) makes retries idempotent for one caller (``scope``: the API key id
    or user; default ``actor``): the same token with the same request returns the first id and
    ``created`` False; with a different request it raises :class:`TokenConflictError`.  Another caller's
    token of the same spelling is unrelated.  Requests arriving together share one transaction
    (:meth:`~pipelines.store.Database.write_grouped`).
    """
    request = parse_new_request(payload, service_names(db, payload.get("service_code")), area)
    submission = Submission(request, area.code_rows[request.grid_index], now, actor, scope or actor, request.digest())
    return db.write_grouped(store_submissions, submission)


_SERVICES: weakref.WeakKeyDictionary[Database, frozenset[str]] = weakref.WeakKeyDictionary()


def service_names(db: Database, asked: object = None) -> frozenset[str]:
    """The category names, read once per database and again only when ``asked`` is not among them
    (categories are added by loads and never removed)."""
    names = _SERVICES.get(db)
    if names is None or (isinstance(asked, str) and asked not in names):  # a non-text code is refused later
        with db.cursor() as cur:
            names = _SERVICES[db] = frozenset(category_rules(cur))
    return names


@dataclass(frozen=True)
class Submission:
    """A validated request on its way to the store: where it lies, when, who sent it, its digest."""

    request: NewRequest
    codes: dict
    now: dt.datetime
    actor: str
    scope: str
    digest: str


def store_submissions(cur, items: list[Submission]) -> list:
    """Store the new requests of one group commit: per item (incident id, created) or a TokenConflictError.

    A token seen before (stored, or earlier in the same group) returns the first id; one statement per
    table for the whole group, and the change counter bumped once.  One look-up finds both the tokens
    already used and any clash of the new ids (:func:`~pipelines.incidents.repository.intake_clashes`).
    """
    keys = [(s.scope, s.request.token) if s.request.token else None for s in items]
    first = _first_in_group(keys)
    leaders = [k for k, j in enumerate(first) if j == k]
    new_ids, stored = _new_ids(cur, [items[k].now for k in leaders], [keys[k] for k in leaders if keys[k]])
    ids = dict(zip(leaders, new_ids, strict=True))
    fresh = [k for k in leaders if keys[k] not in stored]
    repository.insert_tokens(cur, [(*keys[k], ids[k], items[k].digest) for k in fresh if keys[k] is not None])
    rules = category_rules(cur)
    rows = [_incident_row(items[k], ids[k], rules) for k in fresh]
    repository.insert_new_incidents(cur, rows, [items[k].actor for k in fresh], "Open311 上报")
    if rows:
        bump_data_version(cur, reference=False)
    results = []
    for k, s in enumerate(items):
        j = first[k]
        first_id, first_digest = stored.get(keys[j]) or (ids[j], items[j].digest)
        if k == j and keys[k] not in stored:
            results.append((first_id, True))
        elif first_digest is not None and first_digest != s.digest:
            results.append(
                TokenConflictError(
                    f"idempotency token {s.request.token!r} was already used for a different request"
                    f" ({first_id}): send a new token for a new request"
                )
            )
        else:
            results.append((first_id, False))
    return results


def _first_in_group(keys: list) -> list[int]:
    """Per item: the position of the first item of the group with its (caller, token), or its own."""
    seen: dict = {}
    return [k if key is None else seen.setdefault(key, k) for k, key in enumerate(keys)]


def _new_ids(cur, times: list[dt.datetime], keys: list[tuple[str, str]]) -> tuple[list[str], dict]:
    """One new incident id per report time (``OP`` + the second + 6 random hex digits), none already stored;
    and the (incident id, digest) of each of the (caller, token) ``keys`` used before."""
    ids = [_new_id(t) for t in times]
    stored: dict = {}
    while times:
        taken, stored = repository.intake_clashes(cur, ids, min(times), max(times) + dt.timedelta(seconds=1), keys)
        clash = [k for k, i in enumerate(ids) if i in taken or ids.index(i) != k]
        if not clash:
            break
        for k in clash:
            ids[k] = _new_id(times[k])
    return ids, stored


def _new_id(now: dt.datetime) -> str:
    return f"OP{now:%Y%m%d%H%M%S}{secrets.token_hex(3).upper()}"


def _incident_row(s: Submission, incident_id: str, rules: dict) -> dict:
    affair_class, deadline_h = rules.get(s.request.service, (None, None))
    return {
        "incident_id": incident_id,
        "category": s.request.service,
        "affair_class": affair_class or DEFAULT_AFFAIR_CLASS,
        "source": SOURCE,
        "priority": "一般",
        "status": "reported",
        "reported_at": s.now,
        "due_at": s.now + dt.timedelta(hours=int(deadline_h or DEFAULT_DEADLINE_H)),
        "description": s.request.description,
        "address": s.request.address,
        "reporter_name": s.request.reporter,
        "reporter_phone": s.request.phone,
        "lon": s.request.lon,
        "lat": s.request.lat,
        "h3_cell": s.request.h3_cell,
        **s.codes,
    }


@dataclass(frozen=True)
class ActionRequest:
    """A validated action body: its note, and the satisfaction, assignee (and level) or 核查 score it needs."""

    action: str
    note: str | None
    satisfaction: int | None
    assignee: tuple[str, str] | None
    level: str | None = None
    score: int | None = None


def score_of(payload: dict, key: str, problems: list[str], required: bool = True) -> int | None:
    """A 1-5 score (满意度, 核查评价, 反向评价) from ``payload[key]``; problems are appended."""
    value = payload.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        problems.append(f"{key} must be a whole number from 1 to 5, got {value!r}")
        return None
    return value


def parse_action(action: str, payload: dict) -> tuple[ActionRequest, list[str]]:
    """The action and the problems of its body (checked later together with what the database says)."""
    if action not in ACTIONS:
        raise NotFound(f"unknown action {action!r}: use one of {', '.join(ACTIONS)}")
    problems: list[str] = []
    note = text(payload, "note", MAX_DESCRIPTION, problems, required=action in ("resolve", "rework"))
    satisfaction = assignee = level = score = None
    if action == "evaluate":
        satisfaction = score_of(payload, "satisfaction", problems)
    if action in ("verify", "rework"):
        score = score_of(payload, "score", problems, required=False)
    if action == "dispatch":
        level = payload.get("level")
        if level is not None and level not in DISPATCH_LEVELS:
            problems.append(f"level must be one of {', '.join(DISPATCH_LEVELS)} (分级置办), got {level!r}")
        kind = payload.get("assignee_type")
        who = text(payload, "assignee", MAX_SHORT, problems, required=True)
        if kind not in ASSIGNEE_TYPES:
            problems.append(f"assignee_type must be one of {', '.join(ASSIGNEE_TYPES)}, got {kind!r}")
        elif who is not None:
            assignee = (kind, who)
    return ActionRequest(action, note, satisfaction, assignee, level, score), problems


def act(db: Database, incident_id: str, action: str, payload: dict, now: dt.datetime, actor: str) -> dict:
    """Apply one action of the loop; returns the incident afterwards.

    Raises :class:`NotFound`, :class:`RequestError` (bad payload) or
    :class:`~pipelines.incidents.machine.IllegalTransition` (wrong state: HTTP 409).
    """
    request, problems = parse_action(action, payload)
    with db.lock, db.cursor() as cur:
        record = repository.incident_record(cur, incident_id)
        if record is None:
            raise NotFound(f"incident {incident_id} does not exist")
        step = machine.step(incident_id, record["status"], action)
        assignee = request.assignee
        if assignee and assignee[0] == "worker" and not worker_exists(cur, assignee[1]):
            problems.append(f"grid worker {assignee[1]!r} does not exist")
        if problems:
            raise RequestError("; ".join(problems))
        level = request.level
        if assignee and assignee[0] == "department" and level is None and record["affair_class"] == "公事":
            level = "street"  # 分级置办: a 公事 is handled at the street unless passed up
        note = request.note or (_dispatch_note(assignee, level) if action == "dispatch" else None)
        with transaction(cur):
            repository.apply_transition(
                cur,
                incident_id,
                step.from_status,
                step.to_status,
                now,
                actor,
                note,
                request.satisfaction,
                assignee,
                level,
            )
            if action in ("verify", "rework", "reopen"):
                kind = "回访" if action == "reopen" else "核查"
                passed = action == "verify"
                record_verification(cur, incident_id, kind, passed, request.score, request.note, now, actor)
        return repository.incident_record(cur, incident_id)


def _dispatch_note(assignee: tuple[str, str], level: str | None) -> str:
    where = {"street": "（街道级）", "district": "（区级）"}.get(level or "", "")
    return f"派单至{assignee[1]}{where}"
