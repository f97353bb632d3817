"""Open311 GeoReport v2: the service list, new requests (intake), and reading requests back."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from flask import Blueprint, jsonify, request

from dashboard.api.shared import Gate, needs, open311_error, parse_time, payload, split
from pipelines.incidents import intake
from pipelines.incidents.repository import open311_requests
from pipelines.incidents.view import clean
from pipelines.store.categories import category_deadlines
from pipelines.vocabulary import OPEN_STATUSES, STATUS_LABELS_ZH, STATUSES

OPEN311_WINDOW = dt.timedelta(days=90)
"""GeoReport v2: without start_date/end_date, GET requests covers the last 90 days."""
OPEN311_LIMIT = 1000


def _iso(value) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).isoformat()


def open311_request(row: dict) -> dict:
    """One incident in GeoReport v2's service request format."""
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


def _statuses(raw: list[str] | None) -> list[str] | None:
    """Open311's open/closed as our statuses; RequestError for anything else."""
    if not raw:
        return None
    bad = [s for s in raw if s not in ("open", "closed")]
    if bad:
        raise intake.RequestError(f"status must be open and/or closed, got {', '.join(bad)}")
    return [s for s in STATUSES if ("open" if s in OPEN_STATUSES else "closed") in raw]


def add_routes(api: Blueprint, gate: Gate) -> None:
    data = gate.data

    @api.get("/open311/v2/services.json")
    def services():
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
    @needs(gate, "intake", open311=True)
    def post_request(actor, role):
        body = payload()
        if body is None:
            return open311_error(400, "the body must be form fields or a JSON object (Content-Type: application/json)")
        body.setdefault("token", request.headers.get("Idempotency-Key"))
        try:
            incident_id, created = intake.submit(data.db, gate.area(), body, data.clock(), actor)
        except intake.RequestError as exc:
            return open311_error(400, str(exc))
        notice = "已受理上报，请等待处理" if created else "重复提交：返回首次提交的编号"
        reply = [{"service_request_id": incident_id, "service_notice": notice, "account_id": None}]
        return jsonify(reply), 201 if created else 200

    @api.get("/open311/v2/requests.json")
    def get_requests():
        try:
            end = parse_time(request.args.get("end_date"), "end_date") or data.clock()
            start = parse_time(request.args.get("start_date"), "start_date") or end - OPEN311_WINDOW
        except intake.RequestError as exc:
            return open311_error(400, str(exc))
        if start > end:
            return open311_error(400, "start_date is after end_date")
        try:
            statuses = _statuses(split(request.args.get("status")))
        except intake.RequestError as exc:
            return open311_error(400, str(exc))
        codes, ids = split(request.args.get("service_code")), split(request.args.get("service_request_id"))
        with data.cursor() as cur:
            frame = open311_requests(cur, start, end, codes, statuses, ids, OPEN311_LIMIT)
        return jsonify([open311_request({k: clean(v) for k, v in r.items()}) for r in frame.to_dict("records")])

    @api.get("/open311/v2/requests/<incident_id>.json")
    def get_request(incident_id):
        with data.cursor() as cur:
            frame = open311_requests(cur, dt.datetime.min, dt.datetime.max, None, None, [incident_id], 1)
        if frame.empty:
            return open311_error(404, f"service request {incident_id} does not exist")
        return jsonify([open311_request({k: clean(v) for k, v in frame.iloc[0].to_dict().items()})])
