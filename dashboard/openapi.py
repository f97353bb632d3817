"""The OpenAPI 3 document of the HTTP API (served at /openapi.json)."""

from __future__ import annotations

from dashboard.openapi_governance import STATS_PARAMETERS, governance_paths
from pipelines.incidents import machine
from pipelines.vocabulary import ACTIONS, ASSIGNEE_TYPES, DISPATCH_LEVELS


def _error_list() -> dict:
    return {
        "description": "Open311 error list",
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
                        "required": ["code", "description"],
                    },
                }
            }
        },
    }


def _error() -> dict:
    return {
        "description": "error",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "error": {"type": "string"},
                        "status": {"type": "string"},
                        "allowed_actions": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": ["error"],
                }
            }
        },
    }


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _json_body(properties: dict, required: list[str]) -> dict:
    """A required JSON request body: an object with these properties."""
    schema = {"type": "object", "properties": properties, "required": required}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


REQUEST = {
    "type": "object",
    "properties": {
        "service_request_id": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "closed"]},
        "status_notes": {"type": ["string", "null"]},
        "service_name": {"type": "string"},
        "service_code": {"type": "string"},
        "description": {"type": ["string", "null"]},
        "agency_responsible": {"type": ["string", "null"]},
        "requested_datetime": {"type": "string"},
        "updated_datetime": {"type": ["string", "null"]},
        "expected_datetime": {"type": ["string", "null"]},
        "address": {"type": ["string", "null"]},
        "lat": {"type": "number"},
        "long": {"type": "number"},
    },
    "required": ["service_request_id", "status", "service_code", "requested_datetime"],
}
NEW_REQUEST = {
    "type": "object",
    "properties": {
        "api_key": {"type": "string"},
        "service_code": {"type": "string"},
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "long": {"type": "number", "minimum": -180, "maximum": 180},
        "description": {"type": "string", "maxLength": 4000},
        "address_string": {"type": "string", "maxLength": 200},
        "first_name": {"type": "string", "maxLength": 200},
        "last_name": {"type": "string", "maxLength": 200},
        "phone": {"type": "string", "maxLength": 40},
        "token": {"type": "string", "maxLength": 100, "description": "client token: a retry returns the first id"},
    },
    "required": ["api_key", "service_code", "lat", "long"],
}
ACTION_BODY = {
    "type": "object",
    "properties": {
        "note": {"type": "string", "maxLength": 4000},
        "assignee_type": {"type": "string", "enum": list(ASSIGNEE_TYPES)},
        "assignee": {"type": "string", "maxLength": 200},
        "level": {"type": "string", "enum": list(DISPATCH_LEVELS)},
        "satisfaction": {"type": "integer", "minimum": 1, "maximum": 5},
        "score": {"type": "integer", "minimum": 1, "maximum": 5, "description": "核查: the community's evaluation"},
    },
}
KEY = [{"apiKey": []}, {"session": []}]


def _int_query(name: str, low: int, high: int) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": low, "maximum": high},
    }


def _admin(summary: str, ok: dict, **extra) -> dict:
    """An operation needing a key or session, answering ``ok`` or the usual errors."""
    responses = {**ok, **{code: _error() for code in ("400", "401", "403", "404")}}
    return {"summary": summary, "security": KEY, "responses": responses, **extra}


def _account_paths() -> dict:
    """Changing and revoking users and keys, the session, a user's own password."""
    username = {"name": "username", "in": "path", "required": True, "schema": {"type": "string"}}
    key_id = {"name": "key_id", "in": "path", "required": True, "schema": {"type": "string"}}
    ok = {"200": _json({"type": "object"})}
    change = {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "role": {"type": "string", "enum": ["viewer", "dispatcher", "admin"]},
                        "disabled": {"type": "boolean"},
                        "password": {"type": "string", "minLength": 8},
                    },
                    "additionalProperties": False,
                    "minProperties": 1,
                }
            }
        }
    }
    return {
        "/api/v1/users/{username}": {
            "patch": _admin(
                "Change a user's role, disabled flag or password; ends its sessions (admin)",
                ok,
                parameters=[username],
                requestBody={"required": True, **change},
            ),
            "delete": _admin("Delete a user and end its sessions (admin)", ok, parameters=[username]),
        },
        "/api/v1/apikeys/{key_id}": {
            "delete": _admin("Revoke an API key: it then gets 401 (admin)", ok, parameters=[key_id]),
        },
        "/api/v1/session": {
            "get": _admin("The logged-in user, role and CSRF token", ok),
        },
        "/api/v1/account/password": {
            "post": _admin(
                "Change one's own password; ends one's other sessions",
                ok,
                requestBody=_json_body(
                    {"old_password": {"type": "string"}, "new_password": {"type": "string", "minLength": 8}},
                    ["old_password", "new_password"],
                ),
            ),
        },
    }


def openapi_document() -> dict:
    incident_id = {"name": "incident_id", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "gridtwin 一网统管 API",
            "version": "1.0",
            "description": "Open311 GeoReport v2 intake and the closed loop 上报→受理→派单→处置→办结→回访评价. "
            "Write endpoints need an API key (api_key or X-API-Key) or a dashboard session; a session's"
            " writes to /api/* also send X-CSRF-Token (GET /api/v1/session). Public Open311 reads are rate"
            " limited per client address (429 with Retry-After).",
        },
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "session": {"type": "apiKey", "in": "cookie", "name": "gridtwin_session"},
            }
        },
        "paths": {
            "/open311/v2/services.json": {
                "get": {
                    "summary": "Incident categories as Open311 services",
                    "responses": {"200": _json({"type": "array", "items": {"type": "object"}})},
                }
            },
            "/open311/v2/requests.json": {
                "get": {
                    "summary": "Service requests (default: the last 90 days), a page at a time (Link: rel=next)",
                    "parameters": [
                        *(
                            {"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                            for n in ("service_request_id", "service_code", "start_date", "end_date", "status")
                        ),
                        _int_query("page", 1, 100000),
                        _int_query("page_size", 1, 1000),
                    ],
                    "responses": {
                        "200": _json({"type": "array", "items": REQUEST}),
                        "400": _error_list(),
                        "429": _error_list(),
                    },
                },
                "post": {
                    "summary": "Report a new request (committed to disk before the 201 answer)",
                    "security": KEY,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": NEW_REQUEST},
                            "application/x-www-form-urlencoded": {"schema": NEW_REQUEST},
                        },
                    },
                    "responses": {
                        "201": _json({"type": "array", "items": {"type": "object"}}, "created"),
                        "200": _json({"type": "array", "items": {"type": "object"}}, "a retry with a known token"),
                        "400": _error_list(),
                        "401": _error_list(),
                        "403": _error_list(),
                        "422": _error_list(),
                    },
                },
            },
            "/open311/v2/requests/{incident_id}.json": {
                "get": {
                    "summary": "One service request",
                    "parameters": [incident_id],
                    "responses": {
                        "200": _json({"type": "array", "items": REQUEST}),
                        "404": _error_list(),
                        "429": _error_list(),
                    },
                }
            },
            "/api/v1/incidents/{incident_id}": {
                "get": {
                    "summary": "An incident with its full history, allowed actions and dispatch suggestions",
                    "security": KEY,
                    "parameters": [incident_id],
                    "responses": {"200": _json({"type": "object"}), "401": _error(), "404": _error()},
                }
            },
            **{
                f"/api/v1/incidents/{{incident_id}}/{action}": {
                    "post": {
                        "summary": f"{action}: {'/'.join(machine.sources(action))} → {machine.target(action)}",
                        "security": KEY,
                        "parameters": [incident_id],
                        "requestBody": {"content": {"application/json": {"schema": ACTION_BODY}}},
                        "responses": {
                            "200": _json({"type": "object"}),
                            "400": _error(),
                            "401": _error(),
                            "403": _error(),
                            "404": _error(),
                            "409": _error(),
                        },
                    }
                }
                for action in ACTIONS
            },
            "/api/v1/deadlines": {
                "get": {
                    "summary": "Deadline (时限) per category",
                    "security": KEY,
                    "responses": {"200": _json({"type": "array", "items": {"type": "object"}}), "401": _error()},
                }
            },
            "/api/v1/deadlines/{category}": {
                "put": {
                    "summary": "Change a category's deadline (admin)",
                    "security": KEY,
                    "parameters": [{"name": "category", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "requestBody": _json_body(
                        {"deadline_h": {"type": "integer", "minimum": 1, "maximum": 8760}}, ["deadline_h"]
                    ),
                    "responses": {
                        "200": _json({"type": "object"}),
                        "400": _error(),
                        "401": _error(),
                        "403": _error(),
                        "404": _error(),
                    },
                }
            },
            "/api/v1/users": {
                "get": {
                    "summary": "Dashboard accounts (admin)",
                    "security": KEY,
                    "responses": {
                        "200": _json({"type": "array", "items": {"type": "object"}}),
                        "401": _error(),
                        "403": _error(),
                    },
                },
                "post": {
                    "summary": "Create a user or reset its role and password (admin)",
                    "security": KEY,
                    "requestBody": _json_body(
                        {
                            "username": {"type": "string", "maxLength": 64},
                            "role": {"type": "string", "enum": ["viewer", "dispatcher", "admin"]},
                            "password": {"type": "string", "minLength": 8},
                        },
                        ["username", "role", "password"],
                    ),
                    "responses": {
                        "201": _json({"type": "object"}, "created"),
                        "200": _json({"type": "object"}, "updated"),
                        "400": _error(),
                        "401": _error(),
                        "403": _error(),
                    },
                },
            },
            "/api/v1/apikeys": {
                "get": _admin(
                    "API keys: id, name, role, created, revoked — never the key (admin)",
                    {"200": _json({"type": "array", "items": {"type": "object"}})},
                ),
                "post": {
                    "summary": "Create an API key, shown once (admin)",
                    "security": KEY,
                    "requestBody": _json_body(
                        {
                            "name": {"type": "string", "maxLength": 100},
                            "role": {"type": "string", "enum": ["intake", "dispatcher", "admin"]},
                        },
                        ["name"],
                    ),
                    "responses": {
                        "201": _json({"type": "object"}, "created"),
                        "400": _error(),
                        "401": _error(),
                        "403": _error(),
                    },
                },
            },
            **_account_paths(),
            **governance_paths(_error),
            "/api/v1/stats": {
                "get": {
                    "summary": "GB/T 30428 indicators of a unit and period (closure_rate, on_time_closure_rate,"
                    " rework_rate, …), from the history",
                    "security": KEY,
                    "parameters": STATS_PARAMETERS,
                    "responses": {"200": _json({"type": "object"}), "400": _error(), "401": _error()},
                }
            },
        },
    }
