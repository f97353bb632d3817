"""What every API module shares: who is asking (:class:`Gate`, :func:`needs`) and how errors are answered."""

from __future__ import annotations

import datetime as dt
import json
from functools import wraps

import pandas as pd
from flask import jsonify, request, session

from pipelines import auth
from pipelines.area import read_area
from pipelines.incidents.intake import RequestError


class Gate:
    """Who is asking (session or API key), and the area requests are placed in (read once).

    Writes are serialised by the database itself (``data.db.write()``), not here.
    """

    def __init__(self, data):
        self.data = data
        self._area = None

    def area(self):
        if self._area is None:
            with self.data.cursor() as cur:
                self._area = read_area(cur)
        return self._area

    def caller(self) -> tuple[str | None, str | None]:
        """(name, role): the logged-in user, else the API key's owner, else (None, None)."""
        if session.get("user"):
            return session["user"], session.get("role")
        key = request.headers.get("X-API-Key") or request.values.get("api_key")
        if key is None and request.is_json:
            body = request.get_json(silent=True)
            key = body.get("api_key") if isinstance(body, dict) else None
        if isinstance(key, str):
            with self.data.cursor() as cur:
                found = auth.key_role(cur, key)
            if found:
                return f"key:{found[0]}", found[1]
        return None, None


def error(http_status: int, message: str, **extra):
    return jsonify({"error": message, **extra}), http_status


def open311_error(status: int, message: str):
    return jsonify([{"code": status, "description": message}]), status


def needs(gate: Gate, role: str, open311: bool = False):
    """Decorator: the caller must hold ``role`` (or higher)."""

    def wrap(view):
        @wraps(view)
        def inner(*args, **kwargs):
            name, held = gate.caller()
            reply = open311_error if open311 else error
            if held is None:
                hint = "api_key is missing or wrong" if open311 else "log in at /login or send X-API-Key"
                return reply(401, f"authentication required: {hint}")
            if not auth.allows(held, role):
                return reply(403, f"{name} ({held}) may not do this: it needs the {role} role")
            return view(*args, actor=name, role=held, **kwargs)

        return inner

    return wrap


def parse_time(value: str | None, name: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise RequestError(f"{name} must be a W3C date-time such as 2026-11-22T08:00:00+08:00") from None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(None)  # stored times are naive local (server) time
    return stamp.to_pydatetime()


def split(value: str | None) -> list[str] | None:
    items = [v.strip() for v in (value or "").split(",") if v.strip()]
    return items or None


def payload() -> dict | None:
    """The request body as a dict: form fields or a JSON object ({} when empty); None when it is neither."""
    if request.form:
        return request.form.to_dict()
    raw = request.get_data()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
