"""The closed-loop JSON API: an incident's detail, actions along the loop, deadlines, handling statistics."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from flask import Blueprint, jsonify, request

from dashboard.api.shared import Gate, error, needs, parse_time, payload
from pipelines.auth import permission_allowed
from pipelines.incidents import intake
from pipelines.incidents.machine import IllegalTransition
from pipelines.incidents.repository import handling_stats, incident_record
from pipelines.incidents.view import incident_view
from pipelines.store.categories import category_deadlines, set_deadline
from pipelines.store.loop_indicators import (
    UnknownUnitError,
    as_json,
    department_ranking,
    finish,
    indicators,
    unit_level,
)
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
        if action in ("verify", "rework") and not permission_allowed(gate.actor(), "incident.verify", incident_id):
            return error(403, f"{actor} ({role}) may not do this (incident.verify)")
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
        try:
            since, until = period(data.clock())
        except intake.RequestError as exc:
            return error(400, str(exc))
        unit = request.args.get("unit") or "city"
        with data.cursor() as cur:
            try:
                level = unit_level(cur, unit)
            except UnknownUnitError as exc:
                return error(404, str(exc))
            table = indicators(cur, since, until, level, unit)
            row = finish(pd.DataFrame(index=pd.Index(["all"], name="unit_code"))) if table.empty else table
            figures = as_json(row.iloc[0].drop("unit_code").to_dict())
            legacy = handling_stats(cur, since, until)
        return jsonify(
            {"on_time_rate": legacy["on_time_rate"], **figures, "unit": unit, "level": level}
            | {"since": since.isoformat(), "until": until.isoformat()}
        )

    @api.get("/api/v1/departments/ranking")
    @needs(gate, "stats.read")
    def departments(actor, role):
        try:
            since, until = period(data.clock())
        except intake.RequestError as exc:
            return error(400, str(exc))
        with data.cursor() as cur:
            ranking = department_ranking(cur, since, until)
        return jsonify([as_json(r) for r in ranking.to_dict("records")])


def period(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[since, until) from the query (default: the week up to now); RequestError when malformed or reversed."""
    until = parse_time(request.args.get("until"), "until") or now
    since = parse_time(request.args.get("since"), "since") or until - dt.timedelta(days=7)
    if since > now:
        raise intake.RequestError(f"since must not be in the future (now is {now:%Y-%m-%dT%H:%M:%S})")
    if since >= until:
        raise intake.RequestError("since must be before until")
    return since, until
