"""The OpenAPI paths of the governance API (吹哨报到, 反向评价, 议事协商, routing) and of the indicators."""

from __future__ import annotations

from pipelines.vocabulary import AFFAIR_CLASSES, DELIBERATION_ROLES, WHISTLE_LEVELS

KEY = [{"apiKey": []}, {"session": []}]


def _path(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": description}


def _op(summary: str, error, ok: str = "200", body: dict | None = None, parameters=(), errors=("400", "404")) -> dict:
    """An operation with a key or session, answering ``ok`` (an object or a list) or the usual errors."""
    responses = {ok: {"description": "OK", "content": {"application/json": {"schema": {}}}}}
    responses |= {code: error() for code in ("401", "403", *errors)}
    op = {"summary": summary, "security": KEY, "parameters": list(parameters), "responses": responses}
    if body is not None:
        schema = {"type": "object", **body}
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    return op


ESCALATE = {
    "properties": {
        "level": {"type": "string", "enum": list(WHISTLE_LEVELS)},
        "departments": {"type": "array", "items": {"type": "string", "maxLength": 200}, "minItems": 1},
        "reason": {"type": "string", "maxLength": 4000},
        "report_within_h": {"type": "number", "exclusiveMinimum": 0, "maximum": 8760},
        "resolve_within_h": {"type": "number", "exclusiveMinimum": 0, "maximum": 8760},
    },
    "required": ["departments", "reason"],
}
DELIBERATION = {
    "properties": {
        "community_code": {"type": "string"},
        "topic": {"type": "string", "maxLength": 200},
        "held_on": {"type": "string", "format": "date"},
        "participants": {
            "type": "object",
            "propertyNames": {"enum": list(DELIBERATION_ROLES)},
            "additionalProperties": {"type": "integer", "minimum": 1},
        },
        "decision": {"type": "string", "maxLength": 4000},
        "incident_ids": {"type": "array", "items": {"type": "string"}},
        "tasks": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"task": {"type": "string"}, "owner": {"type": "string"}, "due_on": {"type": "string"}},
                "required": ["task"],
            },
        },
    },
    "required": ["community_code", "topic", "held_on", "participants"],
}
STATS_PARAMETERS = [
    _query("unit", "city (default), or a district, street, community or grid code"),
    _query("since", "W3C date-time; default a week before until"),
    _query("until", "W3C date-time; default now"),
]


def governance_paths(error) -> dict:
    incident, whistle, deliberation = _path("incident_id"), _path("whistle_id"), _path("deliberation_id")
    note = {"properties": {"note": {"type": "string", "maxLength": 4000}}}
    return {
        "/api/v1/incidents/{incident_id}/escalate": {
            "post": _op(
                "吹哨: whistle departments; each gets a report and a resolve deadline",
                error,
                "201",
                ESCALATE,
                [incident],
            )
        },
        "/api/v1/incidents/{incident_id}/whistles": {
            "get": _op("The whistles of an incident with each department's clock", error, parameters=[incident])
        },
        "/api/v1/whistles/overdue": {"get": _op("Whistles past a report or resolve deadline", error, errors=())},
        "/api/v1/whistles/{whistle_id}/report": {
            "post": _op("报到: the department responds", error, "200", note, [whistle])
        },
        "/api/v1/whistles/{whistle_id}/result": {
            "post": _op("The department's result (note required)", error, "200", note, [whistle])
        },
        "/api/v1/whistles/{whistle_id}/rate": {
            "post": _op(
                "反向评价: the street or community rates the department (1-5)",
                error,
                "200",
                {
                    "properties": {
                        "score": {"type": "integer", "minimum": 1, "maximum": 5},
                        "comment": {"type": "string"},
                    },
                    "required": ["score"],
                },
                [whistle],
            )
        },
        "/api/v1/deliberations": {
            "post": _op("议事协商 record for 共事, with incidents and tasks", error, "201", DELIBERATION)
        },
        "/api/v1/deliberations/{deliberation_id}": {"get": _op("A 议事 record", error, parameters=[deliberation])},
        "/api/v1/deliberations/{deliberation_id}/tasks/{task_id}/done": {
            "post": _op("Mark a follow-up task done", error, parameters=[deliberation, _path("task_id")])
        },
        "/api/v1/routing": {"get": _op("三事分流: affair class and handler per category", error, errors=())},
        "/api/v1/routing/{category}": {
            "put": _op(
                "Change a category's affair class (and department) (admin)",
                error,
                "200",
                {
                    "properties": {
                        "affair_class": {"type": "string", "enum": list(AFFAIR_CLASSES)},
                        "department": {"type": "string", "maxLength": 200},
                    },
                    "required": ["affair_class"],
                },
                [_path("category")],
            )
        },
        "/api/v1/departments/ranking": {
            "get": _op("Departments ranked by 反向评价 and whistle response", error, parameters=STATS_PARAMETERS[1:])
        },
    }
