"""What the server does for every request before any route: limits, headers, sessions, CSRF.

:func:`install` is the one hook :func:`dashboard.app.create_app` calls on the Flask server:

- bodies over ``max_body_bytes`` get 413 before anything reads them (a WSGI layer on
  Content-Length, and Flask's own limit for chunked bodies);
- every response carries the security headers (CSP of this origin only, frame ancestors self,
  nosniff, same-origin referrer) and ``Server: gridtwin``;
- sessions are rows of the database (:mod:`dashboard.sessions`); behind a reverse proxy
  (``behind_proxy``) the forwarded scheme, host and address are trusted (one hop);
- writes by a logged-in browser must come from this origin (``Origin``, Dash's callbacks
  included), ``/api/*`` writes also carry ``X-CSRF-Token``; JSON endpoints refuse form bodies
  (415) and JSON too deeply nested for the parser (400).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import Flask, jsonify, request, session
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard import sessions
from dashboard.ratelimit import LoginThrottle, ReadLimit, ReplyCache
from pipelines.store import Database

WRITES = ("POST", "PUT", "PATCH", "DELETE")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
DASH_PATHS = ("/_dash-update-component",)


@dataclass
class Settings:
    """The server's security settings (``from_env`` reads the GRIDTWIN_* variables)."""

    max_body_bytes: int = 1048576
    secure_cookies: bool = False
    behind_proxy: bool = False
    open311_read_limit: str = "60/minute"
    login_user_limit: str = "5/15 minutes"
    login_address_limit: str = "20/15 minutes"
    extra_origins: tuple[str, ...] = field(default_factory=tuple)
    """Other origins whose images and tiles the map may load (an XYZ tile server)."""

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        env = os.environ
        values = {
            "max_body_bytes": int(env.get("GRIDTWIN_MAX_BODY_BYTES", cls.max_body_bytes)),
            "open311_read_limit": env.get("GRIDTWIN_OPEN311_READ_LIMIT", cls.open311_read_limit),
        }
        values.update(overrides)
        return cls(**values)


def content_security_policy(script_hashes: list[str], extra_origins: tuple[str, ...]) -> str:
    """Only this origin: no eval and no inline script but Dash's renderer (allowed by its hash);
    Plotly sets inline styles ('unsafe-inline' for styles only); the map's workers come from blob: URLs.

    Checked in Chromium on every page the browser tests open (no CSP violation in the console);
    the figures use no WebGL traces other than the maps, which is what would need 'unsafe-eval'.
    """
    extra = " ".join(extra_origins)
    hashes = " ".join(h if h.startswith("'") else f"'{h}'" for h in script_hashes)  # Dash's come quoted
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {hashes}".strip(),
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob: {extra}".strip(),
            f"connect-src 'self' {extra}".strip(),
            "worker-src 'self' blob:",
            "child-src 'self' blob:",
            "font-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        ]
    )


class Guard:
    """The WSGI layer in front of Flask: 413 on a declared oversize body, and the headers on every reply."""

    def __init__(self, app, max_body_bytes: int, headers: list[tuple[str, str]], csp: Callable[[], str]):
        self.app, self.max_body_bytes, self.headers, self.csp = app, max_body_bytes, headers, csp

    def __call__(self, environ, start_response):
        def with_headers(status, headers, exc_info=None):
            # the policy is read per reply: Dash Pages adds inline scripts when it serves its first request
            ours = [("Content-Security-Policy", self.csp()), *self.headers]
            names = {k.lower() for k, _ in ours}
            kept = [(k, v) for k, v in headers if k.lower() not in names]
            return start_response(status, kept + ours, exc_info)

        try:
            declared = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = -1
        if declared > self.max_body_bytes or declared < 0:
            status = "413 Request Entity Too Large" if declared > 0 else "400 Bad Request"
            message = (
                f"the request body is larger than {self.max_body_bytes} bytes"
                if declared > 0
                else "Content-Length is not a number"
            )
            body = json.dumps({"error": message}).encode()
            with_headers(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return self.app(environ, with_headers)


def tile_origin(tile_url: str | None) -> tuple[str, ...]:
    """The CSP source of an XYZ tile template (``https://t{s}.example.cn/…`` → ``https://*.example.cn``)."""
    if not tile_url:
        return ()
    parts = urlsplit(tile_url)
    host = parts.netloc
    if "{" in host:
        host = "*." + host.split(".", 1)[1] if "." in host else host.replace("{", "").replace("}", "")
    return (f"{parts.scheme}://{host}",) if parts.scheme in ("http", "https") and host else ()


def install(
    server: Flask,
    db: Database,
    settings: Settings,
    script_hashes: Callable[[], list[str]] | None = None,
    tile_url: str | None = None,
) -> None:
    """Put the limits, headers, sessions and CSRF checks on ``server`` (see the module docstring).

    ``script_hashes`` gives the CSP hashes of the page's inline scripts (Dash's ``csp_hashes``, called
    per reply because Dash Pages registers its own inline scripts on the first request);
    ``tile_url`` is the map's tile server, which the CSP then allows for images and fetches.
    """
    server.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes)
    server.session_interface = sessions.ServerSessionInterface(db, secure=settings.secure_cookies)
    server.gridtwin_settings = settings
    server.gridtwin_login_throttle = LoginThrottle(settings.login_user_limit, settings.login_address_limit)
    server.gridtwin_read_limit = ReadLimit(settings.open311_read_limit)
    server.gridtwin_reply_cache = ReplyCache()
    origins = settings.extra_origins + tile_origin(tile_url)
    policy = functools.lru_cache(maxsize=4)(lambda hashes: content_security_policy(list(hashes), origins))

    def csp() -> str:
        return policy(tuple(script_hashes() if script_hashes else ()))

    headers = [
        ("X-Frame-Options", "SAMEORIGIN"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("Server", "gridtwin"),
    ]
    if settings.secure_cookies:
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    wsgi = Guard(server.wsgi_app, settings.max_body_bytes, headers, csp)
    server.wsgi_app = ProxyFix(wsgi, x_for=1, x_proto=1, x_host=1) if settings.behind_proxy else wsgi
    server.before_request(check_request)
    server.register_error_handler(RecursionError, lambda _: _error(400, "the request is nested too deeply"))


def _error(status: int, message: str):
    """The API's error shape (Open311's error list on /open311/)."""
    if request.path.startswith("/open311/"):
        return jsonify([{"code": status, "description": message}]), status
    return jsonify({"error": message}), status


def _json_endpoint(path: str) -> bool:
    return path.startswith(("/api/", *DASH_PATHS))


def cookie_authenticated() -> bool:
    """The caller is a logged-in browser (its session), not an API key in a header or parameter."""
    return bool(session.get("user")) and not (request.headers.get("X-API-Key") or request.args.get("api_key"))


def _foreign_origin() -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    parts = urlsplit(origin)
    return origin == "null" or f"{parts.scheme}://{parts.netloc}" != f"{request.scheme}://{request.host}"


def _body_problem(path: str):
    """415 for a form body on a JSON endpoint; 400 for a JSON body that does not parse or nests too deeply."""
    kind = (request.mimetype or "").lower()
    if _json_endpoint(path) and kind in FORM_TYPES:
        return _error(415, f"{path} takes a JSON body (Content-Type: application/json), not {kind}")
    if not (request.is_json or _json_endpoint(path)):
        return None
    try:
        body = json.loads(request.get_data() or b"null")
    except RecursionError:
        return _error(400, "the JSON body is nested too deeply")
    except ValueError:
        return _error(400, "the body is not valid JSON: send a JSON object")
    if path in DASH_PATHS and not (isinstance(body, dict) and isinstance(body.get("output"), str)):
        return _error(400, "a Dash callback body is a JSON object with an output, inputs and state")
    return None


def check_request():
    """before_request: the Origin, content-type, JSON and CSRF rules for writes."""
    if request.method not in WRITES:
        return None
    path = request.path
    if (cookie_authenticated() or path == "/login") and _foreign_origin():
        return _error(403, f"cross-origin {request.method} refused: {request.headers.get('Origin')} is not this server")
    if problem := _body_problem(path):
        return problem
    if path.startswith("/api/") and cookie_authenticated():
        token = request.headers.get("X-CSRF-Token", "")
        if not token or token != session.get("csrf"):
            return _error(
                403, "missing or wrong X-CSRF-Token: send the gridtwin_csrf cookie's value (GET /api/v1/session)"
            )
    return None
