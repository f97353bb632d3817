"""The governance API on the demo city: 核查, 吹哨报到, 反向评价, 议事协商, routing, indicators."""

from __future__ import annotations

import pytest

from pipelines import auth
from tests.dashboard.test_api import _act, _count, _post


@pytest.fixture
def client(app):
    return app.server.test_client()


def _new(client, app) -> str:
    return _post(client, app).get_json()[0]["service_request_id"]


def _to_resolved(client, app, incident_id):
    for action, body in [
        ("accept", {}),
        ("dispatch", {"assignee_type": "department", "assignee": "城管执法", "level": "district"}),
        ("start", {}),
        ("resolve", {"note": "已处理"}),
    ]:
        assert _act(client, app, incident_id, action, **body).status_code == 200


def _send(client, app, method, path, body=None):
    return client.open(path, method=method, json=body, headers={"X-API-Key": app.dispatch_key})


def test_a_failed_check_sends_the_work_back_and_counts_as_rework(client, app):
    incident_id = _new(client, app)
    _to_resolved(client, app, incident_id)
    assert _act(client, app, incident_id, "rework", score=2).status_code == 400  # a failed check says why
    reply = _act(client, app, incident_id, "rework", note="路面仍有垃圾", score=2)
    assert reply.status_code == 200 and reply.get_json()["status"] == "in_progress"
    assert _act(client, app, incident_id, "resolve", note="复查已清").status_code == 200
    view = _act(client, app, incident_id, "verify", score=5).get_json()
    assert view["status"] == "verified" and view["allowed_actions"] == ["evaluate", "reopen"]
    rows = _count(app, "SELECT count(*) FROM verifications WHERE incident_id = ? AND NOT passed", incident_id)
    assert rows == 1
    assert _count(app, "SELECT max(score) FROM verifications WHERE incident_id = ?", incident_id) == 5
    assert _act(client, app, incident_id, "evaluate", satisfaction=4).get_json()["status"] == "evaluated"
    level = _count(app, "SELECT level FROM assignments WHERE incident_id = ?", incident_id)
    assert level == "district"  # 分级置办 recorded


def test_whistle_report_result_and_rating_are_in_the_history(client, app):
    incident_id = _new(client, app)
    body = {
        "level": "street",
        "departments": ["城管执法", "市政养护"],
        "reason": "多次投诉未解决",
        "report_within_h": 1,
    }
    reply = _send(client, app, "POST", f"/api/v1/incidents/{incident_id}/escalate", body)
    assert reply.status_code == 201
    whistles = reply.get_json()
    assert [w["department"] for w in whistles] == ["城管执法", "市政养护"]
    first = whistles[0]["whistle_id"]
    assert _send(client, app, "POST", f"/api/v1/whistles/{first}/rate", {"score": 4}).status_code == 400  # not yet
    assert _send(client, app, "POST", f"/api/v1/whistles/{first}/report", {"note": "已到场"}).status_code == 200
    assert _send(client, app, "POST", f"/api/v1/whistles/{first}/report", {}).status_code == 400  # once
    assert _send(client, app, "POST", f"/api/v1/whistles/{first}/result", {"note": "已清理"}).status_code == 200
    rated = _send(client, app, "POST", f"/api/v1/whistles/{first}/rate", {"score": 5, "comment": "响应快"})
    assert rated.get_json()["rating"] == 5
    view = _send(client, app, "GET", f"/api/v1/incidents/{incident_id}").get_json()
    assert [w["department"] for w in view["whistles"]] == ["城管执法", "市政养护"]
    assert view["whistles"][0]["reported_at"] and view["whistles"][1]["reported_at"] is None
    assert view["route"]["affair_class"] == "共事" and view["route"]["handler"] == "deliberation"
    notes = [h["note"] for h in view["history"]]
    assert any("吹哨" in n for n in notes) and any("城管执法报到" in n for n in notes)
    assert any("反馈结果" in n for n in notes) and any("反向评价城管执法：5分" in n for n in notes)
    ranking = _send(client, app, "GET", "/api/v1/departments/ranking?since=2000-01-01").get_json()
    assert "城管执法" in [r["department"] for r in ranking]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"departments": [], "reason": "x"}, "departments must be a list"),
        ({"departments": ["a", "a"], "reason": "x"}, "must not name a department twice"),
        ({"departments": ["a"]}, "reason is required"),
        ({"departments": ["a"], "reason": "x", "level": "city"}, "level must be one of street, community"),
        ({"departments": ["a"], "reason": "x", "report_within_h": 0}, "report_within_h must be a number"),
    ],
)
def test_bad_whistles_are_400(client, app, body, message):
    incident_id = _new(client, app)
    reply = _send(client, app, "POST", f"/api/v1/incidents/{incident_id}/escalate", body)
    assert reply.status_code == 400 and message in reply.get_json()["error"]
    assert (
        _send(client, app, "POST", "/api/v1/incidents/NOPE/escalate", {"departments": ["a"], "reason": "x"}).status_code
        == 404
    )
    assert _send(client, app, "POST", "/api/v1/whistles/NOPE/report", {}).status_code == 404


def test_a_deliberation_links_incidents_and_tracks_its_tasks(client, app):
    incident_id = _new(client, app)
    community = _count(app, "SELECT community_code FROM incidents WHERE incident_id = ?", incident_id)
    body = {
        "community_code": community,
        "topic": "小区停车难",
        "held_on": "2026-11-20",
        "participants": {"居民": 12, "物业": 1, "业委会": 2, "党员": 3},
        "decision": "增设夜间临时停车位",
        "incident_ids": [incident_id],
        "tasks": [{"task": "划线", "owner": "物业", "due_on": "2026-11-30"}, {"task": "公示"}],
    }
    reply = _send(client, app, "POST", "/api/v1/deliberations", body)
    assert reply.status_code == 201, reply.get_json()
    record = reply.get_json()
    assert record["incident_ids"] == [incident_id] and record["participants"]["居民"] == 12
    task = record["tasks"][0]["task_id"]
    done = _send(client, app, "POST", f"/api/v1/deliberations/{record['deliberation_id']}/tasks/{task}/done")
    assert done.get_json()["tasks"][0]["done_at"] is not None
    again = _send(client, app, "POST", f"/api/v1/deliberations/{record['deliberation_id']}/tasks/{task}/done")
    assert again.status_code == 400
    bad = _send(client, app, "POST", "/api/v1/deliberations", {**body, "participants": {"路人": 1}, "held_on": "x"})
    assert bad.status_code == 400 and "participants" in bad.get_json()["error"] and "held_on" in bad.get_json()["error"]
    assert _send(client, app, "GET", "/api/v1/deliberations/NOPE").status_code == 404


def test_routing_is_editable_per_category(client, app):
    admin = {"X-API-Key": auth.new_api_key(app.gridtwin_data.con, "routing-admin", "admin")}
    routes = {r["category"]: r for r in _send(client, app, "GET", "/api/v1/routing").get_json()}
    assert routes["邻里纠纷"]["affair_class"] == "家事" and routes["邻里纠纷"]["handler"] == "worker"
    assert _send(client, app, "PUT", "/api/v1/routing/邻里纠纷", {"affair_class": "共事"}).status_code == 403
    bad = client.put("/api/v1/routing/邻里纠纷", json={"affair_class": "私事"}, headers=admin)
    assert bad.status_code == 400 and "affair_class must be one of" in bad.get_json()["error"]
    assert client.put("/api/v1/routing/不存在", json={"affair_class": "共事"}, headers=admin).status_code == 404
    changed = client.put("/api/v1/routing/邻里纠纷", json={"affair_class": "共事"}, headers=admin).get_json()
    assert changed["handler"] == "deliberation"
    incident_id = _post(client, app, service_code="邻里纠纷").get_json()[0]["service_request_id"]
    assert _count(app, "SELECT affair_class FROM incidents WHERE incident_id = ?", incident_id) == "共事"
    client.put("/api/v1/routing/邻里纠纷", json={"affair_class": "家事"}, headers=admin)


def test_stats_return_the_standard_indicators_for_a_unit(client, app):
    street = _count(app, "SELECT street_code FROM streets ORDER BY street_code LIMIT 1")
    stats = _send(client, app, "GET", f"/api/v1/stats?unit={street}&since=2026-11-01T00:00:00").get_json()
    for key in ("closure_rate", "on_time_closure_rate", "rework_rate", "avg_handling_h", "satisfaction"):
        assert key in stats
    assert stats["level"] == "street" and 0 <= stats["closure_rate"] <= 1
    assert _send(client, app, "GET", "/api/v1/stats?unit=NOPE").status_code == 404
    reply = _send(client, app, "GET", "/api/v1/stats?since=2026-11-10T00:00:00&until=2026-11-01T00:00:00")
    assert reply.status_code == 400 and "before until" in reply.get_json()["error"]


def test_whistle_steps_move_the_data_version_and_the_incident_history_not_the_reference(client, app):
    """The dashboard follows a whistle step by the incident's new event (its units are recomputed) and keeps what
    depends on reference data alone: a step must add an event, move the data version and leave the reference."""
    incident_id = _new(client, app)

    def state():
        versions = (
            _count(app, "SELECT value::BIGINT FROM meta WHERE key = ?", key)
            for key in ("data_version", "reference_version")
        )
        return (*versions, _count(app, "SELECT count(*) FROM incident_events WHERE incident_id = ?", incident_id))

    body = {"level": "community", "departments": ["城管执法"], "reason": "多次投诉未解决"}
    steps = [
        ("escalate", f"/api/v1/incidents/{incident_id}/escalate", body),
        ("report", None, {"note": "已到场"}),
        ("result", None, {"note": "已清理"}),
        ("rate", None, {"score": 4}),
    ]
    whistle_id = None
    for name, path, step_body in steps:
        data_before, reference_before, events_before = state()
        reply = _send(client, app, "POST", path or f"/api/v1/whistles/{whistle_id}/{name}", step_body)
        assert reply.status_code in (200, 201), reply.get_json()
        whistle_id = whistle_id or reply.get_json()[0]["whistle_id"]
        data_after, reference_after, events_after = state()
        assert data_after > data_before, name
        assert reference_after == reference_before, name
        assert events_after == events_before + 1, name
