"""The closed-loop JSON API: an incident's detail, actions along the loop, deadlines, handling statistics."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify, request

from dashboard.api.shared import Gate, error, needs, parse_time, payload
from pipelines.incidents import intake
from pipelines.incidents.machine import IllegalTransition
from pipelines.incidents.repository import handling_stats, incident_record
from pipelines.incidents.view import incident_view
from pipelines.store.categories import category_deadlines, set_deadline
from pipelines.store.meta import bump_data_version


def add_routes(api: Blueprint, gate: Gate) -> None:
    data = gate.data

    @api.get("/api/v1/incidents/<incident_id>")
    @needs(gate, "incident.read", resource_arg="incident_id")
    def get_incident(incident_id, actor, role):
        with data.cursor() as cur:
            record = incident_record(cur, incident_id)
            if record is None:
                return error(404, f"incident {incident_id} does not exist")
            return jsonify(incident_view(cur, record, role, data.clock()))

    @api.post("/api/v1/incidents/<incident_id>/<action>")
    @needs(gate, "incident.act", resource_arg="incident_id")
    def act(incident_id, action, actor, role):
        body = payload()
        if body is None:
            return error(400, 'the body must be a JSON object, e.g. {"note": "..."}')
        try:
            record = intake.act(data.db, incident_id, action, body, data.clock(), actor)
        except intake.NotFound as exc:
            return error(404, str(exc))
        except IllegalTransition as exc:
            return error(409, str(exc), status=exc.status, allowed_actions=exc.allowed)
        except intake.RequestError as exc:
            return error(400, str(exc))
        with data.cursor() as cur:
            return jsonify(incident_view(cur, record, role, data.clock()))

    add_deadline_routes(api, gate)


def add_deadline_routes(api: Blueprint, gate: Gate) -> None:
    data = gate.data

    @api.get("/api/v1/deadlines")
    @needs(gate, "deadline.read")
    def deadlines(actor, role):
        with data.cursor() as cur:
            return jsonify(category_deadlines(cur).to_dict("records"))

    @api.put("/api/v1/deadlines/<category>", endpoint="set_deadline")
    @needs(gate, "deadline.set", resource_arg="category")
    def put_deadline(category, actor, role):
        body = payload()
        hours = body.get("deadline_h") if isinstance(body, dict) else None
        if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 8760:
            return error(400, f"deadline_h must be a whole number of hours from 1 to 8760, got {hours!r}")
        with data.db.write() as cur:
            if not set_deadline(cur, category, hours):
                return error(404, f"category {category} does not exist")
            bump_data_version(cur)
        return jsonify({"category": category, "deadline_h": hours})

    @api.get("/api/v1/stats")
    @needs(gate, "stats.read")
    def stats(actor, role):
        now = data.clock()
        try:
            since = parse_time(request.args.get("since"), "since") or now - dt.timedelta(days=7)
        except intake.RequestError as exc:
            return error(400, str(exc))
        if since > now:
            return error(400, f"since must not be in the future (now is {now:%Y-%m-%dT%H:%M:%S})")
        with data.cursor() as cur:
            return jsonify(handling_stats(cur, since, now))
