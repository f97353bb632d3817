"""HTTP API on the dashboard's server: Open311 GeoReport v2 intake, the closed-loop JSON API, login.

Every write checks who is asking: a session cookie from /login (dashboard users) or an API key
(``api_key`` parameter as Open311 has it, or the ``X-API-Key`` header).  Errors are JSON with
one message that says what to fix; Open311 endpoints use the spec's error list format.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import secrets
import threading
from functools import wraps
from urllib.parse import urlencode

import pandas as pd
from flask import Blueprint, Flask, jsonify, redirect, request, session

from dashboard.openapi import openapi_document
from pipelines import auth, loop, store, workflow
from pipelines.area import read_area
from pipelines.domain import OPEN_STATUSES, STATUS_LABELS_ZH, STATUSES
from pipelines.errors import GridtwinError
from pipelines.masking import mask_name, mask_phone

OPEN311_WINDOW = dt.timedelta(days=90)
"""GeoReport v2: without start_date/end_date, GET requests covers the last 90 days."""
OPEN311_LIMIT = 1000


class Gate:
    """Who is asking (session or API key), and the database writes serialised in one place."""

    def __init__(self, data):
        self.data = data
        self.lock = threading.Lock()
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


def _error(http_status: int, message: str, **extra):
    return jsonify({"error": message, **extra}), http_status


def _open311_error(status: int, message: str):
    return jsonify([{"code": status, "description": message}]), status


def needs(gate: Gate, role: str, open311: bool = False):
    """Decorator: the caller must hold ``role`` (or higher)."""

    def wrap(view):
        @wraps(view)
        def inner(*args, **kwargs):
            name, held = gate.caller()
            reply = _open311_error if open311 else _error
            if held is None:
                hint = "api_key is missing or wrong" if open311 else "log in at /login or send X-API-Key"
                return reply(401, f"authentication required: {hint}")
            if not auth.allows(held, role):
                return reply(403, f"{name} ({held}) may not do this: it needs the {role} role")
            return view(*args, actor=name, role=held, **kwargs)

        return inner

    return wrap


def _iso(value) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).isoformat()


def _open311_request(row: dict) -> dict:
    status = row["status"]
    notes = STATUS_LABELS_ZH.get(status, status)
    if row.get("assignee"):
        notes += f" · {row['assignee']}"
    return {
        "service_request_id": row["incident_id"],
        "status": "open" if status in OPEN_STATUSES else "closed",
        "status_notes": notes,
        "service_name": row["category"],
        "service_code": row["category"],
        "description": row["description"],
        "agency_responsible": row.get("assignee") or row.get("department"),
        "service_notice": None,
        "requested_datetime": _iso(row["reported_at"]),
        "updated_datetime": _iso(row.get("updated_at")) or _iso(row["reported_at"]),
        "expected_datetime": _iso(row["due_at"]),
        "address": row["address"],
        "address_id": None,
        "zipcode": None,
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": None,
    }


def _parse_time(value: str | None, name: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise loop.RequestError(f"{name} must be a W3C date-time such as 2026-11-22T08:00:00+08:00") from None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(None)  # stored times are naive local (server) time
    return stamp.to_pydatetime()


def _clean(value):
    """JSON-safe scalars (NaN/NaT → null, numpy → Python)."""
    if value is None or (not isinstance(value, str | list | dict) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return pd.Timestamp(value).isoformat()
    return value.item() if hasattr(value, "item") else value


def incident_view(cur, record: dict, role: str | None, now: dt.datetime) -> dict:
    """An incident with its history, the caller's allowed actions and dispatch suggestions."""
    view = {k: _clean(v) for k, v in record.items()}
    if not auth.allows(role, "dispatcher"):
        view["reporter_name"] = mask_name(record["reporter_name"]) if view["reporter_name"] else None
        view["reporter_phone"] = mask_phone(record["reporter_phone"]) if view["reporter_phone"] else None
    due = record["due_at"]
    view["overdue"] = bool(
        record["status"] in OPEN_STATUSES and due is not None and not pd.isna(due) and pd.Timestamp(due) < now
    )
    history = store.incident_history(cur, record["incident_id"])
    view["history"] = [{k: _clean(v) for k, v in row.items()} for row in history.to_dict("records")]
    view["allowed_actions"] = workflow.allowed_actions(record["status"]) if auth.allows(role, "dispatcher") else []
    workers = store.grid_workers_of(cur, record["grid_code"])
    view["suggestions"] = {
        "department": record["department"],
        "grid_workers": [
            {"worker_id": w.worker_id, "name": w.name, "role": w.role, "phone": mask_phone(w.phone)}
            for w in workers.itertuples()
        ],
    }
    return view


def handling_stats(cur, since: dt.datetime, now: dt.datetime) -> dict:
    """Average handling time and on-time rate of what was resolved since ``since``, from the history."""
    row = cur.execute(
        """
        WITH done AS (
            SELECT e.incident_id, max(e.occurred_at) AS resolved_at FROM incident_events e
            WHERE e.to_status = 'resolved' AND e.occurred_at >= ? AND e.occurred_at <= ? GROUP BY 1),
        opened AS (
            SELECT e.incident_id, min(e.occurred_at) AS reported_at FROM incident_events e
            WHERE e.incident_id IN (SELECT incident_id FROM done) GROUP BY 1)
        SELECT count(*), avg(epoch(d.resolved_at - o.reported_at) / 3600.0),
               avg(CASE WHEN d.resolved_at <= i.due_at THEN 1.0 ELSE 0.0 END)
        FROM done d JOIN opened o USING (incident_id) JOIN incidents i USING (incident_id)
        """,
        [since, now],
    ).fetchone()
    return {"resolved": row[0], "avg_handling_h": row[1], "on_time_rate": row[2], "since": since.isoformat()}


LOGIN_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>登录 · 一网统管</title>
<link rel="stylesheet" href="/assets/style.css"></head>
<body class="gt-login-body"><form class="gt-login" method="post" action="/login">
<h1>一网统管 · 全息网格地图</h1>{message}
<label>用户名 <input name="username" autocomplete="username" required autofocus></label>
<label>密码 <input name="password" type="password" autocomplete="current-password" required></label>
<input type="hidden" name="next" value="{next}"><button class="gt-button" type="submit">登录</button>
{hint}</form></body></html>"""


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


def register(server: Flask, data, require_login: bool = True) -> Gate:
    """Add the API and login routes to the Dash app's Flask server."""
    gate = Gate(data)
    with data.cursor() as cur:
        secret = store.meta_value(cur, "session_secret")
        if secret is None:
            secret = secrets.token_hex(32)
            store.set_meta(cur, "session_secret", secret)
    server.secret_key = secret
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    api = Blueprint("gridtwin_api", __name__)

    # --- Open311 GeoReport v2 ------------------------------------------------------------
    @api.get("/open311/v2/services.json")
    def services():
        with data.cursor() as cur:
            frame = store.category_deadlines(cur)
        return jsonify(
            [
                {
                    "service_code": r.category,
                    "service_name": r.category,
                    "description": f"{r.category}（{r.affair_class}，时限{r.deadline_h}小时，{r.department}）",
                    "metadata": False,
                    "type": "realtime",
                    "keywords": r.affair_class,
                    "group": r.affair_class,
                }
                for r in frame.itertuples()
            ]
        )

    @api.post("/open311/v2/requests.json")
    @needs(gate, "intake", open311=True)
    def post_request(actor, role):
        payload = _payload()
        if payload is None:
            return _open311_error(400, "the body must be form fields or a JSON object (Content-Type: application/json)")
        payload.setdefault("token", request.headers.get("Idempotency-Key"))
        try:
            incident_id, created = loop.submit(data.con, gate.area(), payload, data.clock(), actor, gate.lock)
        except loop.RequestError as exc:
            return _open311_error(400, str(exc))
        notice = "已受理上报，请等待处理" if created else "重复提交：返回首次提交的编号"
        body = [{"service_request_id": incident_id, "service_notice": notice, "account_id": None}]
        return jsonify(body), 201 if created else 200

    @api.get("/open311/v2/requests.json")
    def get_requests():
        try:
            end = _parse_time(request.args.get("end_date"), "end_date") or data.clock()
            start = _parse_time(request.args.get("start_date"), "start_date") or end - OPEN311_WINDOW
        except loop.RequestError as exc:
            return _open311_error(400, str(exc))
        if start > end:
            return _open311_error(400, "start_date is after end_date")
        codes = _split(request.args.get("service_code"))
        statuses = None
        if raw := _split(request.args.get("status")):
            bad = [s for s in raw if s not in ("open", "closed")]
            if bad:
                return _open311_error(400, f"status must be open and/or closed, got {', '.join(bad)}")
            statuses = [s for s in STATUSES if ("open" if s in OPEN_STATUSES else "closed") in raw]
        ids = _split(request.args.get("service_request_id"))
        with data.cursor() as cur:
            frame = store.open311_requests(cur, start, end, codes, statuses, ids, OPEN311_LIMIT)
        return jsonify([_open311_request({k: _clean(v) for k, v in r.items()}) for r in frame.to_dict("records")])

    @api.get("/open311/v2/requests/<incident_id>.json")
    def get_request(incident_id):
        with data.cursor() as cur:
            frame = store.open311_requests(cur, dt.datetime.min, dt.datetime.max, None, None, [incident_id], 1)
        if frame.empty:
            return _open311_error(404, f"service request {incident_id} does not exist")
        return jsonify([_open311_request({k: _clean(v) for k, v in frame.iloc[0].to_dict().items()})])

    # --- closed-loop JSON API --------------------------------------------------------------
    @api.get("/api/v1/incidents/<incident_id>")
    @needs(gate, "viewer")
    def get_incident(incident_id, actor, role):
        with data.cursor() as cur:
            record = store.incident_record(cur, incident_id)
            if record is None:
                return _error(404, f"incident {incident_id} does not exist")
            return jsonify(incident_view(cur, record, role, data.clock()))

    @api.post("/api/v1/incidents/<incident_id>/<action>")
    @needs(gate, "dispatcher")
    def act(incident_id, action, actor, role):
        payload = _payload()
        if payload is None:
            return _error(400, 'the body must be a JSON object, e.g. {"note": "..."}')
        try:
            record = loop.act(data.con, incident_id, action, payload, data.clock(), actor, gate.lock)
        except loop.NotFound as exc:
            return _error(404, str(exc))
        except workflow.IllegalTransition as exc:
            return _error(409, str(exc), status=exc.status, allowed_actions=exc.allowed)
        except loop.RequestError as exc:
            return _error(400, str(exc))
        with data.cursor() as cur:
            return jsonify(incident_view(cur, record, role, data.clock()))

    @api.get("/api/v1/deadlines")
    @needs(gate, "viewer")
    def deadlines(actor, role):
        with data.cursor() as cur:
            return jsonify(store.category_deadlines(cur).to_dict("records"))

    @api.put("/api/v1/deadlines/<category>")
    @needs(gate, "admin")
    def set_deadline(category, actor, role):
        payload = _payload()
        hours = payload.get("deadline_h") if isinstance(payload, dict) else None
        if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 8760:
            return _error(400, f"deadline_h must be a whole number of hours from 1 to 8760, got {hours!r}")
        with gate.lock, data.cursor() as cur, store.transaction(cur):
            if not store.set_deadline(cur, category, hours):
                return _error(404, f"category {category} does not exist")
            store.bump_data_version(cur)
        return jsonify({"category": category, "deadline_h": hours})

    @api.get("/api/v1/stats")
    @needs(gate, "viewer")
    def stats(actor, role):
        now = data.clock()
        try:
            since = _parse_time(request.args.get("since"), "since") or now - dt.timedelta(days=7)
        except loop.RequestError as exc:
            return _error(400, str(exc))
        with data.cursor() as cur:
            return jsonify(handling_stats(cur, since, now))

    @api.get("/api/v1/users")
    @needs(gate, "admin")
    def list_users(actor, role):
        with data.cursor() as cur:
            frame = store.users_frame(cur)
        return jsonify([{k: _clean(v) for k, v in r.items()} for r in frame.to_dict("records")])

    @api.post("/api/v1/users")
    @needs(gate, "admin")
    def add_user(actor, role):
        payload = _payload()
        if payload is None:
            return _error(400, 'the body must be a JSON object: {"username": …, "role": …, "password": …}')
        fields = [payload.get(k) for k in ("username", "role", "password")]
        if not all(isinstance(f, str) for f in fields):
            return _error(400, "username, role and password are required text fields")
        try:
            with gate.lock, data.cursor() as cur:
                created = auth.add_user(cur, *fields)
        except GridtwinError as exc:
            return _error(400, str(exc))
        return jsonify({"username": fields[0].strip(), "role": fields[1], "created": created}), 201 if created else 200

    @api.post("/api/v1/apikeys")
    @needs(gate, "admin")
    def add_key(actor, role):
        payload = _payload() or {}
        name, key_role = payload.get("name"), payload.get("role", "intake")
        if not isinstance(name, str) or not name.strip() or len(name) > 100 or not isinstance(key_role, str):
            return _error(400, "name (1-100 characters) is required; role is intake, dispatcher or admin")
        try:
            with gate.lock, data.cursor() as cur:
                key = auth.new_api_key(cur, name.strip(), key_role)
        except GridtwinError as exc:
            return _error(400, str(exc))
        return jsonify(
            {"name": name.strip(), "role": key_role, "api_key": key, "note": "shown once; stored hashed"}
        ), 201

    @api.get("/openapi.json")
    def openapi():
        return jsonify(openapi_document())

    # --- login ---------------------------------------------------------------------------
    def demo_hint() -> str:
        with data.cursor() as cur:
            accounts = store.meta_value(cur, "demo_accounts")
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

    @api.errorhandler(405)
    def not_allowed(_):
        return _error(405, f"{request.method} is not allowed on {request.path}")

    server.register_blueprint(api)

    if require_login:

        @server.before_request
        def login_wall():
            path = request.path
            if path.startswith(("/open311/", "/api/", "/login", "/logout", "/assets/", "/openapi.json")):
                return None
            if session.get("user"):
                return None
            if path.startswith("/_dash"):
                return _error(401, "log in at /login")
            return redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}))

    return gate


def _split(value: str | None) -> list[str] | None:
    items = [v.strip() for v in (value or "").split(",") if v.strip()]
    return items or None


def _payload() -> dict | None:
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
