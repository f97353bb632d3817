"""The governance API: 吹哨报到, 反向评价, 议事协商, 三事分流 routing, the department ranking.

Validation and writes are :mod:`pipelines.incidents.governance`; these routes parse, ask the
permission table, and answer (400 with one message for a bad body, 404 for an unknown id).
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from dashboard.api.shared import Gate, error, needs, payload
from pipelines.incidents import governance
from pipelines.incidents.intake import NotFound, RequestError
from pipelines.store import governance as store
from pipelines.store.categories import category_deadlines

_BODY = 'the body must be a JSON object, e.g. {"note": "..."}'


def _run(func, *args):
    """Call a governance step; its domain errors become 404/400 replies."""
    try:
        return func(*args), None
    except NotFound as exc:
        return None, error(404, str(exc))
    except RequestError as exc:
        return None, error(400, str(exc))


def add_routes(api: Blueprint, gate: Gate) -> None:
    data = gate.data

    @api.post("/api/v1/incidents/<incident_id>/escalate")
    @needs(gate, "incident.escalate", resource_arg="incident_id")
    def escalate(incident_id, actor, role):
        body = payload()
        if body is None:
            return error(400, _BODY)
        whistles, failed = _run(governance.escalate, data.db, incident_id, body, data.clock(), actor)
        return failed or (jsonify(whistles), 201)

    @api.get("/api/v1/incidents/<incident_id>/whistles")
    @needs(gate, "incident.read", resource_arg="incident_id")
    def whistles(incident_id, actor, role):
        with data.cursor() as cur:
            return jsonify(store.incident_whistles(cur, incident_id))

    @api.get("/api/v1/whistles/overdue")
    @needs(gate, "incident.read")
    def overdue(actor, role):
        with data.cursor() as cur:
            frame = store.overdue_whistles(cur, data.clock(), limit=200)
        return jsonify(store.plain_records(frame))

    def whistle_route(step: str, permission: str):
        @needs(gate, permission, resource_arg="whistle_id")
        def view(whistle_id, actor, role):
            body = payload()
            if body is None:
                return error(400, _BODY)
            row, failed = _run(governance.whistle_step, data.db, whistle_id, step, body, data.clock(), actor)
            return failed or jsonify(row)

        view.__name__ = f"whistle_{step}"
        api.post(f"/api/v1/whistles/<whistle_id>/{step}")(view)

    whistle_route("report", "whistle.report")
    whistle_route("result", "whistle.report")
    whistle_route("rate", "whistle.rate")
    add_deliberation_routes(api, gate)


def add_deliberation_routes(api: Blueprint, gate: Gate) -> None:
    data = gate.data

    @api.post("/api/v1/deliberations")
    @needs(gate, "deliberation.write")
    def new_deliberation(actor, role):
        body = payload()
        if body is None:
            return error(400, _BODY)
        record, failed = _run(governance.add_deliberation, data.db, body, data.clock(), actor)
        return failed or (jsonify(record), 201)

    @api.get("/api/v1/deliberations/<deliberation_id>")
    @needs(gate, "deliberation.read", resource_arg="deliberation_id")
    def get_deliberation(deliberation_id, actor, role):
        with data.cursor() as cur:
            record = store.deliberation(cur, deliberation_id)
        return jsonify(record) if record else error(404, f"deliberation {deliberation_id} does not exist")

    @api.post("/api/v1/deliberations/<deliberation_id>/tasks/<task_id>/done")
    @needs(gate, "deliberation.write", resource_arg="deliberation_id")
    def task_done(deliberation_id, task_id, actor, role):
        record, failed = _run(governance.finish_task, data.db, deliberation_id, task_id, data.clock(), actor)
        return failed or jsonify(record)

    @api.get("/api/v1/routing")
    @needs(gate, "routing.read")
    def routing(actor, role):
        with data.cursor() as cur:
            frame = category_deadlines(cur)
        return jsonify([governance.route(r.category, r.affair_class, r.department) for r in frame.itertuples()])

    @api.put("/api/v1/routing/<category>")
    @needs(gate, "routing.set", resource_arg="category")
    def set_routing(category, actor, role):
        body = payload()
        if body is None:
            return error(400, 'the body must be a JSON object, e.g. {"affair_class": "共事"}')
        route, failed = _run(governance.set_route, data.db, category, body)
        return failed or jsonify(route)
