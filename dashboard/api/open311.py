"""Open311 GeoReport v2: the service list, new requests (intake), and reading requests back.

Reads are public but limited per client address (429 with Retry-After); lists are paged
(``page``, ``page_size``, a ``Link: rel="next"`` header) and their replies cached for a few
seconds, so scrapers cannot starve intake.  Anonymous readers see addresses to building level
and coordinates rounded to 4 decimals (about 10 m).
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

import pandas as pd
from flask import Blueprint, Response, current_app, jsonify, request

from dashboard.api.shared import Gate, needs, open311_error, parse_int, parse_time, payload, split
from pipelines.auth import permission_allowed
from pipelines.incidents import intake
from pipelines.incidents.open311_reads import open311_requests
from pipelines.incidents.view import clean
from pipelines.masking import building_address
from pipelines.store.categories import category_deadlines
from pipelines.vocabulary import OPEN_STATUSES, STATUS_LABELS_ZH, STATUSES

OPEN311_WINDOW = dt.timedelta(days=90)
"""GeoReport v2: without start_date/end_date, GET requests covers the last 90 days."""
PAGE_SIZE, MAX_PAGE_SIZE, MAX_PAGE = 100, 1000, 100000
COORD_DECIMALS = 4


def _iso(value) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).isoformat()


def open311_request(row: dict, public: bool = False) -> dict:
    """One incident in GeoReport v2's service request format (``public``: building-level location)."""
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
        "address": building_address(row["address"]) if public else row["address"],
        "address_id": None,
        "zipcode": None,
        "lat": _coordinate(row["lat"], public),
        "long": _coordinate(row["lon"], public),
        "media_url": None,
    }


def _coordinate(value, public: bool):
    return round(value, COORD_DECIMALS) if public and value is not None else value


def _statuses(raw: list[str] | None) -> list[str] | None:
    """Open311's open/closed as our statuses; RequestError for anything else."""
    if not raw:
        return None
    bad = [s for s in raw if s not in ("open", "closed")]
    if bad:
        raise intake.RequestError(f"status must be open and/or closed, got {', '.join(bad)}")
    return [s for s in STATUSES if ("open" if s in OPEN_STATUSES else "closed") in raw]


def _limited(gate: Gate):
    """429 with Retry-After when this anonymous client address used up its read budget.

    Callers with a key or a session are known (and revocable), so they are not counted.
    """
    if gate.actor().kind != "anonymous":
        return None
    wait = current_app.gridtwin_read_limit.retry_after(request.remote_addr or "-")
    if wait is None:
        return None
    reply, status = open311_error(429, f"too many requests from this address: retry in {wait} s")
    reply.headers["Retry-After"] = str(wait)
    return reply, status


def _list_query(now: dt.datetime) -> dict:
    """The list filters and page of this request; RequestError when any is malformed."""
    end = parse_time(request.args.get("end_date"), "end_date") or now
    start = parse_time(request.args.get("start_date"), "start_date") or end - OPEN311_WINDOW
    if start > end:
        raise intake.RequestError("start_date is after end_date")
    return {
        "start": start,
        "end": end,
        "statuses": _statuses(split(request.args.get("status"))),
        "codes": split(request.args.get("service_code")),
        "ids": split(request.args.get("service_request_id")),
        "page": parse_int("page", 1, 1, MAX_PAGE),
        "page_size": parse_int("page_size", PAGE_SIZE, 1, MAX_PAGE_SIZE),
    }


def _next_link(page: int) -> str:
    args = request.args.to_dict()
    args.pop("api_key", None)
    args["page"] = str(page + 1)
    return f'<{request.base_url}?{urlencode(args)}>; rel="next"'


def add_routes(api: Blueprint, gate: Gate) -> None:
    data = gate.data

    @api.get("/open311/v2/services.json")
    def services():
        if limited := _limited(gate):
            return limited
        with data.cursor() as cur:
            frame = category_deadlines(cur)
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
    @needs(gate, "open311.submit", open311=True)
    def post_request(actor, role):
        body = payload()
        if body is None:
            return open311_error(400, "the body must be form fields or a JSON object (Content-Type: application/json)")
        body.setdefault("token", request.headers.get("Idempotency-Key"))
        try:
            incident_id, created = intake.submit(
                data.db, gate.area(), body, data.clock(), actor, scope=gate.actor().scope
            )
        except intake.TokenConflictError as exc:
            return open311_error(422, str(exc))
        except intake.RequestError as exc:
            return open311_error(400, str(exc))
        notice = "已受理上报，请等待处理" if created else "重复提交：返回首次提交的编号"
        reply = [{"service_request_id": incident_id, "service_notice": notice, "account_id": None}]
        return jsonify(reply), 201 if created else 200

    @api.get("/open311/v2/requests.json")
    def get_requests():
        if limited := _limited(gate):
            return limited
        try:
            query = _list_query(data.clock())
        except intake.RequestError as exc:
            return open311_error(400, str(exc))
        public = not permission_allowed(gate.actor(), "incident.read")
        key = (public, request.query_string)
        if (cached := current_app.gridtwin_reply_cache.get(key)) is not None:
            return _list_reply(*cached, query["page"])
        size, page = query["page_size"], query["page"]
        with data.cursor() as cur:
            frame = open311_requests(
                cur,
                query["start"],
                query["end"],
                query["codes"],
                query["statuses"],
                query["ids"],
                size + 1,
                (page - 1) * size,
            )
        more = len(frame) > size
        rows = [
            open311_request({k: clean(v) for k, v in r.items()}, public) for r in frame.head(size).to_dict("records")
        ]
        body = json.dumps(rows, ensure_ascii=False)
        current_app.gridtwin_reply_cache.put(key, (body, more))
        return _list_reply(body, more, page)

    @api.get("/open311/v2/requests/<incident_id>.json")
    def get_request(incident_id):
        if limited := _limited(gate):
            return limited
        with data.cursor() as cur:
            frame = open311_requests(cur, dt.datetime.min, dt.datetime.max, None, None, [incident_id], 1)
        if frame.empty:
            return open311_error(404, f"service request {incident_id} does not exist")
        public = not permission_allowed(gate.actor(), "incident.read")
        return jsonify([open311_request({k: clean(v) for k, v in frame.iloc[0].to_dict().items()}, public)])


def _list_reply(body: str, more: bool, page: int) -> Response:
    reply = Response(body, mimetype="application/json")
    if more:
        reply.headers["Link"] = _next_link(page)
    return reply
