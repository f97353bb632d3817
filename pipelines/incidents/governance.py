"""The governance steps around the loop: 吹哨报到, 反向评价, 议事协商 and 三事分流 routing, validated then written.

Each function takes a plain dict (a JSON body), checks every field first and raises
:class:`~pipelines.incidents.intake.RequestError` listing every problem (HTTP 400) or
:class:`~pipelines.incidents.intake.NotFound` (404), and writes in one transaction through
``Database.write()``.  The SQL is in :mod:`pipelines.store.governance`.
"""

from __future__ import annotations

import datetime as dt
import math

from pipelines.domain import DEFAULT_DEADLINE_H
from pipelines.incidents import repository
from pipelines.incidents.intake import NotFound, RequestError, score_of, text
from pipelines.store import Database
from pipelines.store import governance as store
from pipelines.store.categories import category_deadlines
from pipelines.store.categories import set_route as store_route
from pipelines.vocabulary import (
    AFFAIR_CLASSES,
    AFFAIR_ROUTES,
    DEFAULT_REPORT_H,
    DELIBERATION_ROLES,
    DONE_STATUSES,
    MAX_DESCRIPTION,
    MAX_SHORT,
    WHISTLE_LEVELS,
)

MAX_DEPARTMENTS = 20
MAX_TASKS = 50


def _hours(payload: dict, key: str, default: float, problems: list[str]) -> float:
    value = payload.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 8760:
        problems.append(f"{key} must be a number of hours above 0 and at most 8760, got {value!r}")
        return default
    return float(value)


def _departments(payload: dict, problems: list[str]) -> list[str]:
    value = payload.get("departments")
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= MAX_DEPARTMENTS
        or not all(isinstance(d, str) and 0 < len(d.strip()) <= MAX_SHORT for d in value)
    ):
        problems.append(f"departments must be a list of 1 to {MAX_DEPARTMENTS} department names, got {value!r}")
        return []
    if len(set(value)) != len(value):
        problems.append("departments must not name a department twice")
    return [d.strip() for d in value]


def escalate(db: Database, incident_id: str, payload: dict, now: dt.datetime, actor: str) -> list[dict]:
    """吹哨: the street or community whistles departments; each gets a report and a resolve deadline."""
    problems: list[str] = []
    level = payload.get("level", "street")
    if level not in WHISTLE_LEVELS:
        problems.append(f"level must be one of {', '.join(WHISTLE_LEVELS)}, got {level!r}")
    departments = _departments(payload, problems)
    reason = text(payload, "reason", MAX_DESCRIPTION, problems, required=True)
    report_h = _hours(payload, "report_within_h", DEFAULT_REPORT_H, problems)
    with db.write() as cur:
        record = repository.incident_record(cur, incident_id)
        if record is None:
            raise NotFound(f"incident {incident_id} does not exist")
        if record["status"] in DONE_STATUSES:
            problems.append(f"incident {incident_id} is {record['status']}: a closed incident cannot be whistled")
        deadlines = category_deadlines(cur).set_index("category")["deadline_h"]
        deadline = deadlines.get(record["category"])
        known = deadline is not None and not math.isnan(deadline) and deadline > 0
        resolve_h = _hours(payload, "resolve_within_h", float(deadline) if known else DEFAULT_DEADLINE_H, problems)
        if problems:
            raise RequestError("; ".join(problems))
        store.blow_whistle(cur, incident_id, level, departments, reason, now, report_h, resolve_h, actor)
        return store.incident_whistles(cur, incident_id)


def whistle_step(db: Database, whistle_id: str, step: str, payload: dict, now: dt.datetime, actor: str) -> dict:
    """One department's step on a whistle: ``report`` (报到), ``result`` (办理结果) or ``rate`` (反向评价)."""
    problems: list[str] = []
    note = text(payload, "note", MAX_DESCRIPTION, problems, required=step == "result")
    score = score_of(payload, "score", problems) if step == "rate" else None
    comment = text(payload, "comment", MAX_DESCRIPTION, problems) if step == "rate" else None
    with db.write() as cur:
        row = store.whistle(cur, whistle_id)
        if row is None:
            raise NotFound(f"whistle {whistle_id} does not exist")
        if step == "report" and row["reported_at"] is not None:
            problems.append(f"{row['department']} already reported on {row['reported_at'][:16]}")
        if step == "result" and row["resolved_at"] is not None:
            problems.append(f"{row['department']} already gave its result")
        if step == "rate" and row["reported_at"] is None:
            problems.append(f"{row['department']} has not reported yet: rate it after it reports")
        if problems:
            raise RequestError("; ".join(problems))
        if step == "report":
            store.report_whistle(cur, whistle_id, note, now, actor)
        elif step == "result":
            store.resolve_whistle(cur, whistle_id, note, now, actor)
        else:
            store.rate_whistle(cur, whistle_id, score, comment, now, actor)
        return store.whistle(cur, whistle_id)


def _participants(payload: dict, problems: list[str]) -> dict[str, int]:
    value = payload.get("participants")
    if (
        not isinstance(value, dict)
        or not value
        or not all(r in DELIBERATION_ROLES for r in value)
        or not all(isinstance(n, int) and not isinstance(n, bool) and 0 < n < 10_000 for n in value.values())
    ):
        problems.append(
            f'participants must map roles ({", ".join(DELIBERATION_ROLES)}) to head counts, e.g. {{"居民": 12}},'
            f" got {value!r}"
        )
        return {}
    return value


def _tasks(payload: dict, problems: list[str]) -> list[dict]:
    value = payload.get("tasks", [])
    if not isinstance(value, list) or len(value) > MAX_TASKS:
        problems.append(f"tasks must be a list of at most {MAX_TASKS} tasks, got {value!r}")
        return []
    tasks = []
    for k, item in enumerate(value):
        item_problems: list[str] = []
        if not isinstance(item, dict):
            problems.append(f"tasks[{k}] must be an object with task, owner, due_on")
            continue
        task = text(item, "task", MAX_SHORT, item_problems, required=True)
        owner = text(item, "owner", MAX_SHORT, item_problems)
        due = _date(item, "due_on", item_problems, required=False)
        problems += [f"tasks[{k}]: {p}" for p in item_problems]
        tasks.append({"task": task, "owner": owner, "due_on": due})
    return tasks


def _date(payload: dict, key: str, problems: list[str], required: bool = True) -> dt.date | None:
    value = payload.get(key)
    if value is None and not required:
        return None
    try:
        day = dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None or not 1970 <= day.year <= 2200:
        problems.append(f"{key} must be a date YYYY-MM-DD, got {value!r}")
    return day


def add_deliberation(db: Database, payload: dict, now: dt.datetime, actor: str) -> dict:
    """议事协商 for 共事: the record, the incidents it settles, its follow-up tasks."""
    problems: list[str] = []
    record = {
        "community_code": text(payload, "community_code", MAX_SHORT, problems, required=True),
        "topic": text(payload, "topic", MAX_SHORT, problems, required=True),
        "held_on": _date(payload, "held_on", problems),
        "participants": _participants(payload, problems),
        "decision": text(payload, "decision", MAX_DESCRIPTION, problems),
    }
    incident_ids = payload.get("incident_ids", [])
    if not isinstance(incident_ids, list) or not all(isinstance(i, str) for i in incident_ids):
        problems.append(f"incident_ids must be a list of incident ids, got {incident_ids!r}")
        incident_ids = []
    tasks = _tasks(payload, problems)
    with db.write() as cur:
        if record["community_code"] and store.community_codes(cur, record["community_code"]) is None:
            problems.append(f"community {record['community_code']} does not exist")
        for incident_id in sorted(set(incident_ids)):
            found = repository.incident_record(cur, incident_id)
            if found is None:
                problems.append(f"incident {incident_id} does not exist")
            elif found["community_code"] != record["community_code"]:
                problems.append(f"incident {incident_id} is not in community {record['community_code']}")
        if problems:
            raise RequestError("; ".join(problems))
        deliberation_id = store.add_deliberation(cur, record, sorted(set(incident_ids)), tasks, now, actor)
        return store.deliberation(cur, deliberation_id)


def finish_task(db: Database, deliberation_id: str, task_id: str, now: dt.datetime, actor: str) -> dict:
    with db.write() as cur:
        done = store.task_done(cur, deliberation_id, task_id, now, actor)
        if done is None:
            raise NotFound(f"deliberation {deliberation_id} has no task {task_id}")
        if done is False:
            raise RequestError(f"task {task_id} is done already")
        return store.deliberation(cur, deliberation_id)


def set_route(db: Database, category: str, payload: dict) -> dict:
    """三事分流 per category: its affair class (and so who handles it), and optionally its department."""
    problems: list[str] = []
    affair_class = payload.get("affair_class")
    if affair_class not in AFFAIR_CLASSES:
        problems.append(f"affair_class must be one of {', '.join(AFFAIR_CLASSES)}, got {affair_class!r}")
    department = text(payload, "department", MAX_SHORT, problems)
    if problems:
        raise RequestError("; ".join(problems))
    with db.write() as cur:
        if not store_route(cur, category, affair_class, department):
            raise NotFound(f"category {category} does not exist")
    return route(category, affair_class, department)


def route(category: str, affair_class: str, department: str | None) -> dict:
    handler, how = AFFAIR_ROUTES.get(affair_class, AFFAIR_ROUTES["公事"])
    return {
        "category": category,
        "affair_class": affair_class,
        "department": department,
        "handler": handler,
        "how": how,
    }
