"""HTTP API on the dashboard's server: Open311 GeoReport v2 intake, the closed-loop JSON API, accounts.

- :mod:`~dashboard.api.open311` services, new requests, reading requests back (GeoReport v2)
- :mod:`~dashboard.api.incidents` incident detail and actions, deadlines, handling statistics
- :mod:`~dashboard.api.governance` 吹哨报到, 反向评价, 议事协商, routing by affair class
- :mod:`~dashboard.api.accounts` users and API keys (admins)
- :mod:`~dashboard.api.login` login/logout, the login wall, the session, a user's own password
- :mod:`~dashboard.api.shared` who is asking (session or API key), parameters, the error replies

Every route asks :func:`pipelines.auth.permission_allowed` whether the caller — a session from
/login (dashboard users) or an API key (``api_key`` parameter as Open311 has it, or the
``X-API-Key`` header) — may do what it asks.  Limits, CSRF and headers are
:mod:`dashboard.security`'s, in front of every route.  Errors are JSON with
one message that says what to fix; Open311 endpoints use the spec's error list format.  The
routes only parse and answer: validation and writes are :mod:`pipelines.incidents` and
:mod:`pipelines.auth`, serialised by the database's own write lock.
"""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, request

from dashboard.api import accounts, governance, incidents, login, open311
from dashboard.api.shared import Gate, error
from dashboard.openapi import openapi_document

__all__ = ["Gate", "register"]


def register(server: Flask, data, require_login: bool = True) -> Gate:
    """Add the API and login routes to the Dash app's Flask server."""
    gate = Gate(data)
    api = Blueprint("gridtwin_api", __name__)
    open311.add_routes(api, gate)
    incidents.add_routes(api, gate)
    governance.add_routes(api, gate)
    accounts.add_routes(api, gate)
    login.add_login_routes(api, gate)

    @api.get("/openapi.json")
    def openapi():
        return jsonify(openapi_document())

    @api.errorhandler(405)
    def not_allowed(_):
        return error(405, f"{request.method} is not allowed on {request.path}")

    server.register_blueprint(api)
    if require_login:
        login.add_login_wall(server)
    return gate
