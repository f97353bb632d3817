"""Logging in and out, the login wall in front of the dashboard, the session's own endpoints.

``POST /login`` takes the form (a browser) or JSON with ``Accept: application/json`` (a script);
wrong passwords are throttled per user and per client address (429 with Retry-After, even for
the right password while locked).  The session is a row of the database (:mod:`dashboard.sessions`).
"""

from __future__ import annotations

import html
from urllib.parse import urlencode

from flask import Blueprint, Flask, current_app, jsonify, redirect, request, session

from dashboard import sessions
from dashboard.api.shared import Gate, error, needs, payload
from pipelines import auth
from pipelines.errors import GridtwinError
from pipelines.store.meta import meta_value

LOGIN_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>登录 · 一网统管</title>
<link rel="stylesheet" href="/assets/style.css"></head>
<body class="gt-login-body"><form class="gt-login" method="post" action="/login">
<h1>一网统管 · 全息网格地图</h1>{message}
<label>用户名 <input name="username" autocomplete="username" required autofocus></label>
<label>密码 <input name="password" type="password" autocomplete="current-password" required></label>
<input type="hidden" name="next" value="{next}"><button class="gt-button" type="submit">登录</button>
{hint}</form></body></html>"""

OPEN_PATHS = ("/open311/", "/api/", "/login", "/logout", "/assets/", "/_dash-component-suites/", "/openapi.json")
"""Paths the login wall lets through: the API checks its callers itself; ``/assets/`` and
``/_dash-component-suites/`` are the front end's own files and the libraries' published ones (Dash, React,
plotly.js), which hold no data (and can then be compressed at start-up, before anyone logs in)."""


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def add_login_routes(api: Blueprint, gate: Gate) -> None:
    data = gate.data

    def demo_hint() -> str:
        with data.cursor() as cur:
            marked = meta_value(cur, "demo_city") == "true"
            accounts = meta_value(cur, "demo_accounts") if marked else None
        return f'<p class="gt-login-hint">演示账号 demo accounts: {html.escape(accounts)}</p>' if accounts else ""

    def refuse(status: int, message_zh: str, message: str, target: str, retry_after: int | None = None):
        if _wants_json():
            reply, status = error(status, message)
        else:
            page = LOGIN_PAGE.format(
                message=f'<p class="gt-login-error">{message_zh}</p>',
                next=html.escape(target, quote=True),
                hint=demo_hint(),
            )
            reply = current_app.response_class(page, mimetype="text/html")
        if retry_after is not None:
            reply.headers["Retry-After"] = str(retry_after)
        return reply, status

    @api.get("/login")
    def login_page():
        target = html.escape(_safe_next(request.args.get("next")), quote=True)
        return LOGIN_PAGE.format(message="", next=target, hint=demo_hint())

    @api.post("/login")
    def login_submit():
        body = (request.get_json(silent=True) if request.is_json else request.form) or {}
        username, password = body.get("username"), body.get("password")
        username = username if isinstance(username, str) else ""
        password = password if isinstance(password, str) else ""
        target = _safe_next(body.get("next") if isinstance(body.get("next"), str) else None)
        throttle, address = current_app.gridtwin_login_throttle, request.remote_addr or "-"
        if (wait := throttle.retry_after(username, address)) is not None:
            return refuse(
                429, f"尝试次数过多，请 {wait} 秒后再试", f"too many attempts: retry in {wait} s", target, wait
            )
        with data.cursor() as cur:
            role = auth.login(cur, username, password)
        if role is None:
            throttle.failed(username, address)
            return refuse(401, "用户名或密码不正确", "wrong user name or password", target)
        throttle.succeeded(username)
        sessions.begin(username, role)
        if _wants_json():
            return jsonify({"user": username, "role": role, "csrf_token": session["csrf"]})
        return redirect(target)

    @api.route("/logout", methods=["GET", "POST"])
    def logout():
        sessions.end()
        return redirect("/login")

    @api.get("/api/v1/session")
    @needs(gate, "session.read")
    def current_session(actor, role):
        return jsonify({"user": actor, "role": role, "csrf_token": session.get("csrf")})

    @api.post("/api/v1/account/password")
    @needs(gate, "account.password")
    def change_password(actor, role):
        body = payload() or {}
        old, new = body.get("old_password"), body.get("new_password")
        if not isinstance(old, str) or not isinstance(new, str):
            return error(400, 'send {"old_password": …, "new_password": …}')
        try:
            with data.db.write() as cur:
                auth.change_password(cur, actor, old, new, keep_session_hash=sessions.current_hash())
        except GridtwinError as exc:
            return error(400, str(exc))
        return jsonify({"user": actor, "password_changed": True, "other_sessions_ended": True})


def add_login_wall(server: Flask) -> None:
    """Everything but the API, login and assets needs a logged-in session."""

    @server.before_request
    def login_wall():
        path = request.path
        if path.startswith(OPEN_PATHS):
            return None
        if session.get("user"):
            return None
        if path.startswith("/_dash"):
            return error(401, "log in at /login")
        return redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}))
