"""What every API module shares: who is asking (:class:`Gate`, :func:`needs`), parameters, and error replies."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
from functools import wraps

from flask import g, jsonify, request, session

from pipelines import auth
from pipelines.area import read_area
from pipelines.auth import ANONYMOUS, Actor
from pipelines.incidents.intake import RequestError

EARLIEST, LATEST = dt.datetime(1970, 1, 1), dt.datetime(2200, 1, 1)
"""Dates outside these are refused as parameters (they are typing mistakes, and overflow arithmetic)."""
log = logging.getLogger(__name__)
_W3C = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?")


class Gate:
    """Who is asking (API key or session), and the area requests are placed in (read once).

    Writes are serialised by the database itself (``data.db.write()``), not here.
    """

    def __init__(self, data):
        self.data = data
        self._area = None
        self._area_lock = threading.Lock()
        self.keys = auth.KeyCache(data.db)

    def area(self):
        """The loaded area, read by the first request that needs it (the others wait for that one read:
        at city scale twenty threads each reading 65,025 grids at once took the server past a minute)."""
        if self._area is None:
            with self._area_lock:
                if self._area is None:
                    with self.data.cursor() as cur:
                        area = read_area(cur)
                    if area is not None:
                        area.locator  # noqa: B018 - compiled once here, not by every request thread at once
                    self._area = area
        return self._area

    def warm(self) -> None:
        """Read the area before the first report arrives (on the server's warm-up thread): at city scale reading
        the 65,025 grids and compiling their locator takes ~2 s (1.25 + 0.73 s at load 2.5), which the first
        Open311 POST after a start would otherwise wait for."""
        try:
            self.area()
        except Exception:  # left cold: the first report reads it and says what failed
            log.warning("reading the area for intake failed; the first report reads it", exc_info=True)

    def actor(self) -> Actor:
        """The caller of this request: an API key given with it, else the logged-in user, else anonymous.

        A key given but not valid (wrong or revoked) is anonymous, whatever the session says.
        """
        if "gridtwin_actor" not in g:
            g.gridtwin_actor = self._find_actor()
        return g.gridtwin_actor

    def _find_actor(self) -> Actor:
        key = request.headers.get("X-API-Key") or request.values.get("api_key")
        if key is None and request.is_json:
            body = request.get_json(silent=True)
            key = body.get("api_key") if isinstance(body, dict) else None
        if isinstance(key, str):
            found = self.keys.key_role(key)
            return Actor("key", f"key:{found[0]}", found[1], f"key:{found[2]}") if found else ANONYMOUS
        if session.get("user"):
            return Actor("user", session["user"], session.get("role"), f"user:{session['user']}")
        return ANONYMOUS

    def caller(self) -> tuple[str | None, str | None]:
        """(name, role) of the caller; (None, None) when anonymous."""
        actor = self.actor()
        return actor.name, actor.role


def error(http_status: int, message: str, **extra):
    return jsonify({"error": message, **extra}), http_status


def open311_error(status: int, message: str):
    return jsonify([{"code": status, "description": message}]), status


def needs(gate: Gate, action: str, open311: bool = False, resource_arg: str | None = None):
    """Decorator: :func:`pipelines.auth.permission_allowed` must allow the caller ``action``.

    Anonymous callers get 401, known callers without the permission 403.  The view gets
    ``actor`` (the caller's name) and ``role``.
    """

    def wrap(view):
        @wraps(view)
        def inner(*args, **kwargs):
            actor = gate.actor()
            reply = open311_error if open311 else error
            resource = kwargs.get(resource_arg) if resource_arg else None
            if not auth.permission_allowed(actor, action, resource):
                if actor.kind == "anonymous":
                    hint = "api_key is missing or wrong" if open311 else "log in at /login or send X-API-Key"
                    return reply(401, f"authentication required: {hint}")
                return reply(403, f"{actor.name} ({actor.role}) may not do this ({action})")
            return view(*args, actor=actor.name, role=actor.role, **kwargs)

        return inner

    return wrap


def parse_time(value: str | None, name: str) -> dt.datetime | None:
    """A W3C date-time parameter as naive local time; RequestError when malformed or out of range."""
    if not value:
        return None
    hint = f"{name} must be a W3C date-time such as 2026-11-22T08:00:00+08:00"
    if not _W3C.fullmatch(value.strip()):
        raise RequestError(f"{hint}, got {value[:40]!r}")
    try:
        stamp = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise RequestError(f"{hint}, got {value[:40]!r}") from None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.UTC).replace(tzinfo=None)  # as before: the instant, without its zone
    if not EARLIEST <= stamp <= LATEST:
        raise RequestError(f"{name} must be between {EARLIEST:%Y} and {LATEST:%Y}, got {value[:40]!r}")
    return stamp


def parse_int(name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter within [low, high]; RequestError otherwise."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise RequestError(f"{name} must be a whole number from {low} to {high}, got {raw[:40]!r}")
    return int(raw)


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
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None
