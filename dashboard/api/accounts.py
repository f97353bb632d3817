"""Accounts: the login page and session, logout, the login wall in front of the dashboard, users and API keys."""

from __future__ import annotations

import html
from urllib.parse import urlencode

from flask import Blueprint, Flask, jsonify, redirect, request, session

from dashboard.api.shared import Gate, error, needs, payload
from pipelines import auth
from pipelines.errors import GridtwinError
from pipelines.incidents.view import clean
from pipelines.store.accounts import users_frame
from pipelines.store.meta import meta_value

LOGIN_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>登录 · 一网统管</title>
<link rel="stylesheet" href="/assets/style.css"></head>
<body class="gt-login-body"><form class="gt-login" method="post" action="/login">
<h1>一网统管 · 全息网格地图</h1>{message}
<label>用户名 <input name="username" autocomplete="username" required autofocus></label>
<label>密码 <input name="password" type="password" autocomplete="current-password" required></label>
<input type="hidden" name="next" value="{next}"><button class="gt-button" type="submit">登录</button>
{hint}</form></body></html>"""

OPEN_PATHS = ("/open311/", "/api/", "/login", "/logout", "/assets/", "/openapi.json")
"""Paths the login wall lets through: the API checks its callers itself."""


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


def add_routes(api: Blueprint, gate: Gate) -> None:
    data = gate.data

    @api.get("/api/v1/users")
    @needs(gate, "admin")
    def list_users(actor, role):
        with data.cursor() as cur:
            frame = users_frame(cur)
        return jsonify([{k: clean(v) for k, v in r.items()} for r in frame.to_dict("records")])

    @api.post("/api/v1/users")
    @needs(gate, "admin")
    def add_user(actor, role):
        body = payload()
        if body is None:
            return error(400, 'the body must be a JSON object: {"username": …, "role": …, "password": …}')
        fields = [body.get(k) for k in ("username", "role", "password")]
        if not all(isinstance(f, str) for f in fields):
            return error(400, "username, role and password are required text fields")
        try:
            with data.db.write() as cur:
                created = auth.add_user(cur, *fields)
        except GridtwinError as exc:
            return error(400, str(exc))
        return jsonify({"username": fields[0].strip(), "role": fields[1], "created": created}), 201 if created else 200

    @api.post("/api/v1/apikeys")
    @needs(gate, "admin")
    def add_key(actor, role):
        body = payload() or {}
        name, key_role = body.get("name"), body.get("role", "intake")
        if not isinstance(name, str) or not name.strip() or len(name) > 100 or not isinstance(key_role, str):
            return error(400, "name (1-100 characters) is required; role is intake, dispatcher or admin")
        try:
            with data.db.write() as cur:
                key = auth.new_api_key(cur, name.strip(), key_role)
        except GridtwinError as exc:
            return error(400, str(exc))
        return jsonify(
            {"name": name.strip(), "role": key_role, "api_key": key, "note": "shown once; stored hashed"}
        ), 201

    add_login_routes(api, gate)


def add_login_routes(api: Blueprint, gate: Gate) -> None:
    data = gate.data

    def demo_hint() -> str:
        with data.cursor() as cur:
            accounts = meta_value(cur, "demo_accounts")
        return f'<p class="gt-login-hint">演示账号 demo accounts: {html.escape(accounts)}</p>' if accounts else ""

    @api.get("/login")
    def login_page():
        target = html.escape(_safe_next(request.args.get("next")), quote=True)
        return LOGIN_PAGE.format(message="", next=target, hint=demo_hint())

    @api.post("/login")
    def login_submit():
        with data.cursor() as cur:
            role = auth.login(cur, request.form.get("username", ""), request.form.get("password", ""))
        target = _safe_next(request.form.get("next"))
        if role is None:
            message = '<p class="gt-login-error">用户名或密码不正确</p>'
            return LOGIN_PAGE.format(message=message, next=html.escape(target, quote=True), hint=demo_hint()), 401
        session.clear()
        session["user"], session["role"] = request.form["username"], role
        return redirect(target)

    @api.route("/logout", methods=["GET", "POST"])
    def logout():
        session.clear()
        return redirect("/login")


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
